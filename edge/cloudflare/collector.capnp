# The report collector in workerd, with SQLite-backed Durable Objects kept
# on local disk. Point the storage somewhere writable:
#   workerd serve edge/cloudflare/collector.capnp --directory-path reports-storage=/path/to/dir
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "collector", worker = .collector),
    (name = "reports-storage", disk = (path = "/tmp/edgerec-collector", writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8788", http = (), service = "collector")],
);

const collector :Workerd.Worker = (
  modules = [
    # Named by their paths in the repository, so that the collector's import
    # of the package's own body reader resolves as it does on disk.
    (name = "edge/cloudflare/src/collector.mjs", esModule = embed "src/collector.mjs"),
    (name = "edge/cloudflare/src/report.mjs", esModule = embed "src/report.mjs"),
    (name = "js/recommender.mjs", esModule = embed "../../js/recommender.mjs"),
  ],
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [
    (className = "ReportShard", uniqueKey = "edgerec-report-shard", enableSql = true),
    (className = "PolicyIndex", uniqueKey = "edgerec-policy-index", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "reports-storage"),
  bindings = [
    (name = "SHARDS", durableObjectNamespace = "ReportShard"),
    (name = "INDEX", durableObjectNamespace = "PolicyIndex"),
    (name = "K", text = "50"),
    (name = "MAX_REPORTS_PER_DAY", text = "1000000"),
  ],
);
