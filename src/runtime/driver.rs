//! The driver: one task that owns a `Core` and feeds it everything — UDP datagrams (drained in
//! batches on readiness), stream messages from connection tasks, timer wake-ups and signals —
//! then sends what the core produced. Running the core on one task keeps the hot path free of
//! locks and guarantees that responses leave in the order they were produced.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc::{Receiver, UnboundedReceiver};
use tracing::{debug, error, info, warn};

use super::admin::ReloadRequest;
use super::dns::Dns;
use super::flood::{FloodGuard, Verdict, MAX_SOURCES};
use super::mmsg::{self, RecvBatch};
use super::streams::Streams;
use super::tcp::{Events, StreamEvent};
use super::udp::{recv_batch, send_batch, udp_ready, UdpListener};
use crate::config::{self, ConfigErrors, Live, Snapshot, Transport};
use crate::proxy::{Core, CoreConfig, Input, Services, Transmit};
use crate::telemetry::{LogControl, Telemetry};

/// Datagrams handled per readiness wake-up before looking at other inputs.
const UDP_BATCH: usize = 64;
/// Stream events handled per wake-up before the answers are sent.
const STREAM_BATCH: usize = 32;
/// How long SIGTERM waits for transactions to finish.
const DRAIN: Duration = Duration::from_secs(5);
/// Period of the heartbeat (`/healthz`) and systemd watchdog pings.
const TICK: Duration = Duration::from_secs(1);
/// How many rounds of already-due timers one loop iteration fires before it yields.
const DUE_ROUNDS: usize = 8;

/// The driver task's state.
pub struct Driver {
    core: Core,
    live: Arc<Live>,
    services: Arc<Services>,
    config_path: PathBuf,
    udp: Vec<UdpListener>,
    events: UnboundedReceiver<StreamEvent>,
    /// TCP and TLS connections, and what this iteration sends on them.
    streams: Streams,
    generation: u64,
    /// Receive buffers for `recvmmsg`, shared by the UDP listeners.
    rx: RecvBatch,
    /// UDP transmits waiting to leave together through listener `udp_via` (one `sendmmsg`),
    /// in the order the core produced them.
    udp_out: Vec<Transmit>,
    udp_via: usize,
    telemetry: Arc<Telemetry>,
    /// Reloads asked for on the admin port.
    reloads: Option<Receiver<ReloadRequest>>,
    /// Arrival instants of the messages handled in this loop iteration (relay latency).
    received: Vec<Instant>,
    /// Background resolution of carrier names (fills reloaded snapshots).
    dns: Option<Dns>,
    /// Per-source-IP message rate limit, checked before parsing.
    flood: FloodGuard,
    /// The configuration load in progress, if any (it runs off the driver's thread).
    reloading: Option<Reloading>,
}

/// What a reload's blocking thread hands back (its error when the thread panicked).
type Loaded = Result<Result<Snapshot, ConfigErrors>, tokio::task::JoinError>;

/// Who waits for the outcome of a reload (the admin port's `POST /reload`; SIGHUP waits for
/// nobody).
type ReloadReply = tokio::sync::oneshot::Sender<Result<u64, ConfigErrors>>;

/// A configuration load running on a blocking thread. Parsing and compiling a big file (1M
/// DIDs: over a second) must not stall the calls the driver is relaying meanwhile.
struct Reloading {
    task: tokio::task::JoinHandle<Result<Snapshot, ConfigErrors>>,
    generation: u64,
    started: Instant,
    waiters: Vec<ReloadReply>,
    /// Reloads asked for while this one ran: the file may have changed since it was read,
    /// so one more load follows, answering these.
    next: Option<Vec<ReloadReply>>,
}

/// The signal streams the driver reacts to. Installed before the proxy reports ready, so a
/// SIGHUP or SIGTERM sent right after READY is handled rather than killing the process.
pub struct Signals {
    hup: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the SIGHUP, SIGTERM and SIGINT handlers (needs a running tokio runtime).
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }
}

enum Wake {
    Udp(usize),
    Stream(Option<StreamEvent>),
    Timer,
    Reload,
    Tick,
    AdminReload(ReloadRequest),
    Loaded(Box<Loaded>),
    Stop,
}

impl Driver {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: CoreConfig,
        live: Arc<Live>,
        services: Arc<Services>,
        config_path: PathBuf,
        udp: Vec<UdpListener>,
        tcp_local: Vec<SocketAddr>,
        events_tx: Events,
        events: UnboundedReceiver<StreamEvent>,
    ) -> Driver {
        let generation = live.load().generation;
        let telemetry = Telemetry::new(LogControl::default(), Instant::now(), generation, unix_now());
        Driver {
            core: Core::new(cfg, Instant::now(), unix_now()),
            live,
            services,
            config_path,
            udp,
            events,
            streams: Streams::new(tcp_local, events_tx),
            generation,
            rx: RecvBatch::new(),
            udp_out: Vec::with_capacity(mmsg::SLOTS),
            udp_via: 0,
            telemetry: Arc::new(telemetry),
            reloads: None,
            received: Vec::with_capacity(UDP_BATCH),
            dns: None,
            flood: FloodGuard::new(MAX_SOURCES),
            reloading: None,
        }
    }

    /// Hooks in the `tls:` listeners' addresses and the DNS task.
    pub fn with_links(mut self, tls_local: Vec<SocketAddr>, dns: Dns) -> Driver {
        self.streams.set_tls_local(tls_local);
        self.dns = Some(dns);
        self
    }

    /// Hooks in the process's telemetry and the admin port's reload requests.
    pub fn with_ops(mut self, telemetry: Arc<Telemetry>, reloads: Receiver<ReloadRequest>) -> Driver {
        self.telemetry = telemetry;
        self.reloads = Some(reloads);
        self
    }

    /// Runs until SIGTERM (then drains) or until every input is gone.
    pub async fn run(mut self, signals: Signals) {
        let Signals {
            mut hup,
            mut term,
            mut int,
        } = signals;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let watchdog = sd_notify::watchdog_enabled().is_some();
        // One timer for the core's next wake-up, moved only when that deadline changes (a new
        // `Sleep` per loop iteration would cost a timer-wheel insert and remove each time).
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        loop {
            let deadline = self.due_timers().await;
            if deadline != armed {
                if let Some(d) = deadline {
                    sleep.as_mut().reset(tokio::time::Instant::from_std(d));
                }
                armed = deadline;
            }
            let wake = tokio::select! {
                biased;
                _ = term.recv() => Wake::Stop,
                _ = int.recv() => Wake::Stop,
                _ = hup.recv() => Wake::Reload,
                _ = tick.tick() => Wake::Tick,
                r = next_reload(&mut self.reloads) => Wake::AdminReload(r),
                r = loaded(&mut self.reloading) => Wake::Loaded(Box::new(r)),
                i = udp_ready(&self.udp) => Wake::Udp(i),
                e = self.events.recv() => Wake::Stream(e),
                _ = &mut sleep, if armed.is_some() => {
                    armed = None;
                    Wake::Timer
                }
            };
            match wake {
                Wake::Udp(i) => self.drain_udp(i),
                Wake::Stream(Some(e)) => {
                    self.on_stream(e);
                    self.more_stream_events();
                }
                Wake::Stream(None) => return,
                Wake::Timer => self.on_timer(),
                Wake::Reload => self.start_reload(None),
                Wake::Tick => {
                    self.telemetry.tick(Instant::now(), watchdog);
                    self.housekeeping();
                }
                Wake::AdminReload(r) => self.start_reload(Some(r.reply)),
                Wake::Loaded(r) => self.finish_reload(*r),
                Wake::Stop => return self.drain().await,
            }
            self.flush().await;
            let now = Instant::now();
            self.telemetry
                .after_iteration(&mut self.core, &mut self.received, now);
        }
    }

    /// Fires the core's timers that are already due (Timers I, J and K are zero on reliable
    /// transports) and returns the next deadline. Arming the `Sleep` for a past instant would
    /// make tokio unpark its own driver: an eventfd write and one more epoll wake-up each time.
    async fn due_timers(&mut self) -> Option<Instant> {
        for _ in 0..DUE_ROUNDS {
            match self.core.poll_timeout() {
                Some(d) if d <= Instant::now() => {
                    self.on_timer();
                    self.flush().await;
                }
                next => return next,
            }
        }
        self.core.poll_timeout()
    }

    /// Once a second (the tick): keep-alive pings and carrier registrations, expiry and
    /// persistence of registrations.
    fn housekeeping(&mut self) {
        let snap = self.live.load_full();
        self.core.tick(Instant::now(), &snap, &self.services);
        self.services.registrations.expire(unix_now());
        super::state::save_if_dirty(snap.proxy.state_dir.as_deref(), &self.services);
    }

    /// Reads what listener `i` has queued, up to [`mmsg::SLOTS`] datagrams per `recvmmsg`,
    /// and at most [`UDP_BATCH`] before the other inputs get a turn (the listener stays ready
    /// when it still has more).
    fn drain_udp(&mut self, i: usize) {
        let Some(l) = self.udp.get(i) else { return };
        let (socket, local) = (Arc::clone(&l.socket), l.local);
        let mut taken = 0;
        while taken < UDP_BATCH {
            let (n, more) = match recv_batch(&socket, &mut self.rx, UDP_BATCH - taken) {
                Ok(got) => got,
                Err(e) => {
                    debug!("udp recv on {local}: {e}");
                    return;
                }
            };
            for k in 0..n {
                self.take_datagram(k, local);
            }
            taken += n;
            if !more {
                return;
            }
        }
    }

    /// Hands datagram `k` of the last receive batch to the core, unless the flood guard drops
    /// it. Each datagram becomes its own `Bytes`: the buffers are reused by the next batch.
    fn take_datagram(&mut self, k: usize, local: SocketAddr) {
        let Some(src) = self.rx.source(k) else { return };
        let now = Instant::now();
        let snap = self.live.load();
        if !admit(&mut self.flood, &self.telemetry, &snap, src, now) {
            return;
        }
        let bytes = Bytes::copy_from_slice(self.rx.datagram(k));
        let input = Input {
            src,
            local,
            transport: Transport::Udp,
            conn: None,
            bytes,
        };
        self.received.push(now);
        self.core.handle(now, &snap, &self.services, input);
    }

    /// A whole message from a stream connection: to the core, unless the flood guard drops it.
    fn take_message(&mut self, input: Input) {
        let now = Instant::now();
        let snap = self.live.load();
        if admit(&mut self.flood, &self.telemetry, &snap, input.src, now) {
            self.received.push(now);
            self.core.handle(now, &snap, &self.services, input);
        }
    }

    fn on_timer(&mut self) {
        let snap = self.live.load();
        self.core.handle_timeout(Instant::now(), &snap, &self.services);
    }

    fn on_stream(&mut self, e: StreamEvent) {
        match e {
            StreamEvent::Opened {
                id,
                peer,
                transport,
                writer,
            } => {
                self.streams.opened(id, peer, transport, writer);
            }
            StreamEvent::Message(input) => self.take_message(input),
            StreamEvent::Closed { id, peer, failed } => {
                self.streams.closed(id, peer);
                if failed {
                    let snap = self.live.load();
                    self.core
                        .transport_error(Instant::now(), &snap, &self.services, peer);
                }
            }
        }
    }

    /// Sends everything the core queued: UDP in batches (one `sendmmsg` per run of transmits
    /// through the same listener, in order), TCP and TLS in one write per connection.
    async fn flush(&mut self) {
        let snap = self.live.load();
        while let Some(t) = self.core.poll_transmit() {
            match t.transport {
                Transport::Udp => self.queue_udp(t).await,
                Transport::Tcp | Transport::Tls => self.streams.stage(t, &snap),
            }
        }
        self.send_udp_queue().await;
        self.streams.send_staged(&snap);
    }

    /// Queues a UDP transmit on the listener of its address family. A transmit for another
    /// listener first sends what is queued, so UDP messages leave in the order produced.
    async fn queue_udp(&mut self, t: Transmit) {
        let Some(via) = self
            .udp
            .iter()
            .position(|l| l.local.is_ipv4() == t.dest.is_ipv4())
        else {
            warn!("no udp listener for {}", t.dest);
            return;
        };
        if via != self.udp_via {
            self.send_udp_queue().await;
            self.udp_via = via;
        }
        self.udp_out.push(t);
    }

    /// Sends the queued UDP transmits, [`mmsg::SLOTS`] per syscall. A datagram the kernel
    /// refuses is logged and skipped; the ones after it are still sent.
    async fn send_udp_queue(&mut self) {
        let Some(l) = self.udp.get(self.udp_via) else {
            return;
        };
        let mut sent = 0;
        while sent < self.udp_out.len() {
            let rest = &self.udp_out[sent..];
            match send_batch(&l.socket, rest).await {
                Ok(n) => sent += n,
                Err(e) => {
                    debug!("udp send to {}: {e}", rest[0].dest);
                    sent += 1;
                }
            }
        }
        self.udp_out.clear();
    }

    /// The stream messages that arrived with the one just handled (one TCP read often holds
    /// several), up to [`STREAM_BATCH`], so that their answers leave together.
    fn more_stream_events(&mut self) {
        for _ in 1..STREAM_BATCH {
            match self.events.try_recv() {
                Ok(e) => self.on_stream(e),
                Err(_) => return,
            }
        }
    }

    /// Starts loading the configuration file on a blocking thread (SIGHUP, `POST /reload`);
    /// while one load runs, further requests wait for one more load after it.
    fn start_reload(&mut self, reply: Option<ReloadReply>) {
        if let Some(r) = &mut self.reloading {
            r.next.get_or_insert_with(Vec::new).extend(reply);
            return;
        }
        let generation = self.generation + 1;
        info!(generation, "reloading {}", self.config_path.display());
        let path = self.config_path.clone();
        self.reloading = Some(Reloading {
            task: tokio::task::spawn_blocking(move || config::load(&path, generation)),
            generation,
            started: Instant::now(),
            waiters: reply.into_iter().collect(),
            next: None,
        });
    }

    /// A load finished: swap the snapshot in (or keep the old one serving), answer whoever
    /// asked, and start the load asked for meanwhile.
    fn finish_reload(&mut self, loaded: Loaded) {
        let Some(done) = self.reloading.take() else { return };
        // The loading thread panicked: reported like any rejected file.
        let loaded = loaded.unwrap_or_else(|e| {
            Err(ConfigErrors(vec![config::ConfigError {
                file: self.config_path.display().to_string(),
                line: 1,
                col: 1,
                key: String::new(),
                message: format!("configuration load failed: {e}"),
            }]))
        });
        let outcome = self.apply_reload(done.generation, loaded, done.started.elapsed());
        for w in done.waiters {
            let _ = w.send(outcome.clone());
        }
        if let Some(next) = done.next {
            let mut next = next.into_iter();
            self.start_reload(next.next());
            if let Some(r) = &mut self.reloading {
                r.waiters.extend(next);
            }
        }
    }

    fn apply_reload(
        &mut self,
        next: u64,
        loaded: Result<Snapshot, ConfigErrors>,
        took: Duration,
    ) -> Result<u64, ConfigErrors> {
        match loaded {
            Ok(snap) => {
                if snap.proxy.listen != self.live.load().proxy.listen {
                    warn!("reload: listener changes take effect at restart");
                }
                self.generation = next;
                self.telemetry.config_loaded(&snap, unix_now());
                if let Some(dns) = &self.dns {
                    dns.prime(&snap);
                }
                self.streams.clear_tls_clients();
                // Freeing a big snapshot (1M DIDs) takes a while too: not on this thread.
                let old = self.live.swap(Arc::new(snap));
                tokio::task::spawn_blocking(move || drop(old));
                info!(
                    generation = next,
                    took_ms = took.as_millis() as u64,
                    "configuration reloaded"
                );
                Ok(next)
            }
            Err(errs) => {
                for e in &errs.0 {
                    error!("reload rejected: {e}");
                }
                error!(
                    "reload rejected: {} error(s); the previous configuration stays in service",
                    errs.0.len()
                );
                Err(errs)
            }
        }
    }

    /// SIGTERM: refuse new calls, let transactions finish (bounded), then return.
    async fn drain(&mut self) {
        info!("draining");
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        self.core.set_draining();
        let until = Instant::now() + DRAIN;
        while Instant::now() < until && self.core.counts().calls + self.core.counts().relays > 0 {
            let deadline = self.core.poll_timeout().map(|d| d.min(until)).or(Some(until));
            tokio::select! {
                i = udp_ready(&self.udp) => self.drain_udp(i),
                Some(e) = self.events.recv() => self.on_stream(e),
                _ = sleep_until(deadline) => self.on_timer(),
            }
            self.flush().await;
            let now = Instant::now();
            self.telemetry
                .after_iteration(&mut self.core, &mut self.received, now);
        }
        super::state::save_if_dirty(self.live.load().proxy.state_dir.as_deref(), &self.services);
        info!("stopped");
    }
}

/// The flood guard's verdict on one message from `src` at `now` (counted and logged when
/// dropped). One clock read and one snapshot load serve the check and the core.
fn admit(
    flood: &mut FloodGuard,
    telemetry: &Telemetry,
    snap: &Snapshot,
    src: SocketAddr,
    now: Instant,
) -> bool {
    match flood.check(snap, src.ip(), now) {
        Verdict::Pass => true,
        Verdict::Drop { first } => {
            telemetry.metrics.flood_dropped();
            if first {
                warn!(
                    src = %src.ip(),
                    "flood: over rate_limit ({} per {:?}); dropping its messages for the rest of the window",
                    snap.security.rate_limit,
                    snap.security.rate_window
                );
            }
            false
        }
    }
}

/// The next admin reload request; never resolves without an admin port.
async fn next_reload(rx: &mut Option<Receiver<ReloadRequest>>) -> ReloadRequest {
    if let Some(rx) = rx {
        if let Some(r) = rx.recv().await {
            return r;
        }
    }
    std::future::pending().await
}

/// The outcome of the load in progress; never ready when none runs.
async fn loaded(reloading: &mut Option<Reloading>) -> Loaded {
    match reloading {
        Some(r) => (&mut r.task).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

/// Wall-clock unix seconds.
pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
