//! A model release followed per request, as the Worker does: the release
//! file (path on the `origin` backend, from the `edgerec` config store's
//! `release` key) is read at most once a minute per sandbox (`release_ttl_ms`
//! to change it); each request's
//! shopper key is placed by the hash the device uses; one store per bundle
//! version. A release file that cannot be read or checked keeps the last
//! good one (none yet: the embedded bundle); a candidate that fails to load
//! gives way to the current bundle.

use edgerec::release::{BundleRef, Release, Side};
use edgerec::{Error, Result, Store};
use fastly::{ConfigStore, Request};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The backend the release file and its bundles are read from.
const ORIGIN: &str = "origin";
/// How long a read release file is used before it is read again.
const RELEASE_TTL: Duration = Duration::from_secs(60);

/// Where a request was served from: the store, and the release header values.
pub struct Served<'a> {
    pub store: &'a Store,
    /// `experiment/side`, when a release placed the request.
    pub release: Option<String>,
}

pub struct Follower {
    path: String,
    ttl: Duration,
    release: Option<Release>,
    read_at: Option<Instant>,
    stores: HashMap<String, Store>,
}

impl Follower {
    /// The follower the service's config store asks for, if any.
    pub fn configured() -> Option<Follower> {
        let (path, ttl) = configured_file("release", RELEASE_TTL)?;
        Some(Follower { path, ttl, release: None, read_at: None, stores: HashMap::new() })
    }

    fn refresh(&mut self) {
        if self.read_at.is_some_and(|t| t.elapsed() < self.ttl) {
            return;
        }
        self.read_at = Some(Instant::now());
        // A bad file keeps the last good one.
        if let Ok(release) = fetch(&self.path).and_then(|b| Release::parse(&String::from_utf8_lossy(&b))) {
            let named: Vec<&str> = [Side::Current, Side::Candidate]
                .iter()
                .filter_map(|&s| release.bundle(s).map(|b| b.version.as_str()))
                .collect();
            self.stores.retain(|version, _| named.contains(&version.as_str()));
            self.release = Some(release);
        }
    }

    fn load(&mut self, bundle: &BundleRef) -> Result<()> {
        if self.stores.contains_key(&bundle.version) {
            return Ok(());
        }
        let bytes = fetch(&resolve(&self.path, &bundle.url))?;
        let store = Store::load(&bytes)?;
        bundle.check_loaded(store.model())?;
        self.stores.insert(bundle.version.clone(), store);
        Ok(())
    }

    /// The store for this shopper key (none: the current side), or
    /// `embedded` while no release file has been read.
    pub fn serve<'a>(&'a mut self, shopper_key: Option<&str>, embedded: &'a Store) -> Result<Served<'a>> {
        self.refresh();
        let Some(release) = self.release.clone() else { return Ok(Served { store: embedded, release: None }) };
        if let Some(key) = shopper_key {
            edgerec::decide::state::check_key(key).map_err(Error::InvalidOptions)?;
        }
        let placement = shopper_key.map(|k| release.place(k));
        let side = placement.as_ref().map_or(Side::Current, |p| p.side);
        let chosen = match release.bundle(side) {
            Some(b) if self.load(b).is_ok() => (side, b.version.clone()),
            _ => match self.load(&release.current) {
                Ok(()) => (Side::Current, release.current.version.clone()),
                Err(_) => return Ok(Served { store: embedded, release: None }),
            },
        };
        let store = &self.stores[&chosen.1];
        Ok(Served { store, release: Some(format!("{}/{}", release.experiment, chosen.0.name())) })
    }
}

/// The origin path the `edgerec` config store gives under `key`, and how
/// long a read of it is used (`{key}_ttl_ms`, else `ttl`); None without one.
pub fn configured_file(key: &str, ttl: Duration) -> Option<(String, Duration)> {
    let config = ConfigStore::try_open("edgerec").ok()?;
    let path = config.try_get(key).ok()??;
    let ms = config.try_get(&format!("{key}_ttl_ms")).ok().flatten().and_then(|v| v.parse().ok());
    Some((path, ms.map_or(ttl, Duration::from_millis)))
}

/// A bundle URL read against the release file's path (absolute URLs: their path).
fn resolve(release_path: &str, url: &str) -> String {
    if let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) {
        return rest.find('/').map_or("/".to_string(), |i| rest[i..].to_string());
    }
    if url.starts_with('/') {
        return url.to_string();
    }
    let folder = release_path.rfind('/').map_or("/", |i| &release_path[..=i]);
    format!("{folder}{url}")
}

/// A file from the `origin` backend.
pub fn fetch(path: &str) -> Result<Vec<u8>> {
    let failed = |why: String| Error::InvalidInput(format!("fetching {path} from the {ORIGIN} backend: {why}"));
    let mut response =
        Request::get(format!("http://{ORIGIN}{path}")).send(ORIGIN).map_err(|e| failed(e.to_string()))?;
    if !response.get_status().is_success() {
        return Err(failed(format!("HTTP {}", response.get_status().as_u16())));
    }
    Ok(response.take_body_bytes())
}
