//! The process secret (Record-Route signatures, nonces): persisted under `state_dir` so signed
//! routes and nonces stay valid across restarts; random per process without a state dir.

use std::io;
use std::path::Path;

/// Reads `state_dir/secret`, creating it (mode 0600, written atomically) when missing.
pub fn load_or_create(state_dir: Option<&Path>) -> io::Result<[u8; 32]> {
    let Some(dir) = state_dir else { return Ok(random()) };
    std::fs::create_dir_all(dir)?;
    let path = dir.join("secret");
    if let Ok(bytes) = std::fs::read(&path) {
        if let Ok(s) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return Ok(s);
        }
    }
    let s = random();
    let tmp = dir.join("secret.tmp");
    write_private(&tmp, &s)?;
    std::fs::rename(&tmp, &path)?;
    Ok(s)
}

fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// 32 random bytes from the OS.
pub fn random() -> [u8; 32] {
    let mut s = [0u8; 32];
    // getrandom only fails when the OS has no entropy source at all; fall back to time + pid.
    if getrandom::fill(&mut s).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        s[..16].copy_from_slice(&t.as_nanos().to_le_bytes());
        s[16..20].copy_from_slice(&std::process::id().to_le_bytes());
    }
    s
}

/// A random seed for tags and branch ids.
pub fn seed() -> u64 {
    let r = random();
    u64::from_le_bytes([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]])
}
