# The two Prio3 aggregators (issue 21) in workerd, each its own process with
# its own SQLite-backed Durable Objects on its own disk, as two parties run
# them. Secrets come from each process's environment:
#   EDGEREC_HPKE_KEYS   a JSON array of keypairs, the advertised one first
#                       (`edgerec prio3 keygen --id N` prints one)
#   EDGEREC_VERIFY_KEY  32 bytes of hex, the VDAF verify key both share
#   EDGEREC_PEER_TOKEN  the bearer token the leader presents to the helper
#   EDGEREC_ADMIN_TOKEN the bearer token that provisions tasks
#   EDGEREC_HELPER_URL  (leader) where the helper answers
#   EDGEREC_AGGREGATE_AFTER_S (leader, optional) how long a report waits for
#                       the task's alarm to verify it (default 600)
#   workerd serve edge/cloudflare/aggregators.capnp leader --directory-path storage=/var/lib/leader
#   workerd serve edge/cloudflare/aggregators.capnp helper --directory-path storage=/var/lib/helper
using Workerd = import "/workerd/workerd.capnp";

const leader :Workerd.Config = (
  services = [
    (name = "aggregator", worker = .leaderWorker),
    (name = "storage", disk = (path = "/tmp/edgerec-leader", writable = true)),
    (name = "loopback", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8791", http = (), service = "aggregator")],
);

const helper :Workerd.Config = (
  services = [
    (name = "aggregator", worker = .helperWorker),
    (name = "storage", disk = (path = "/tmp/edgerec-helper", writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8792", http = (), service = "aggregator")],
);

const modules :List(Workerd.Worker.Module) = [
  # Named by their paths in the repository, so that the imports resolve as on disk.
  (name = "edge/cloudflare/src/aggregator.mjs", esModule = embed "src/aggregator.mjs"),
  (name = "edge/cloudflare/src/report.mjs", esModule = embed "src/report.mjs"),
  (name = "js/recommender.mjs", esModule = embed "../../js/recommender.mjs"),
  (name = "js/prio3-workerd.mjs", esModule = embed "../../js/prio3-workerd.mjs"),
  (name = "pkg/edgerec_prio3.js", esModule = embed "../../pkg/edgerec_prio3.js"),
  (name = "pkg/edgerec_prio3_bg.wasm", wasm = embed "../../pkg/edgerec_prio3_bg.wasm"),
];

const leaderWorker :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [(className = "Prio3Task", uniqueKey = "edgerec-prio3-leader", enableSql = true)],
  durableObjectStorage = (localDisk = "storage"),
  globalOutbound = "loopback",
  bindings = [
    (name = "ROLE", text = "leader"),
    (name = "TASKS", durableObjectNamespace = "Prio3Task"),
    (name = "K", text = "50"),
    (name = "HPKE_KEYS", fromEnvironment = "EDGEREC_HPKE_KEYS"),
    (name = "VERIFY_KEY", fromEnvironment = "EDGEREC_VERIFY_KEY"),
    (name = "PEER_TOKEN", fromEnvironment = "EDGEREC_PEER_TOKEN"),
    (name = "ADMIN_TOKEN", fromEnvironment = "EDGEREC_ADMIN_TOKEN"),
    (name = "HELPER_URL", fromEnvironment = "EDGEREC_HELPER_URL"),
    (name = "AGGREGATE_AFTER_S", fromEnvironment = "EDGEREC_AGGREGATE_AFTER_S"),
  ],
);

const helperWorker :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [(className = "Prio3Task", uniqueKey = "edgerec-prio3-helper", enableSql = true)],
  durableObjectStorage = (localDisk = "storage"),
  bindings = [
    (name = "ROLE", text = "helper"),
    (name = "TASKS", durableObjectNamespace = "Prio3Task"),
    (name = "HPKE_KEYS", fromEnvironment = "EDGEREC_HPKE_KEYS"),
    (name = "VERIFY_KEY", fromEnvironment = "EDGEREC_VERIFY_KEY"),
    (name = "PEER_TOKEN", fromEnvironment = "EDGEREC_PEER_TOKEN"),
    (name = "ADMIN_TOKEN", fromEnvironment = "EDGEREC_ADMIN_TOKEN"),
  ],
);
