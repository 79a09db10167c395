/// MailNetwork: the pieces of SwiftNIO glue the SMTP and IMAP servers share: the bridge from a
/// channel's pipeline to a connection's async session (one stream of events), the set of a
/// listener's connections for a clean stop, and per-IP counting windows for rate limits.
/// Protocol logic stays in the servers; this module knows nothing about SMTP or IMAP.

import NIOCore
import NIOTLS
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a session reads from its connection.
public enum InboundEvent: Sendable {
    case bytes([UInt8])
    /// The TLS handshake (after STARTTLS, or at the start with implicit TLS) has completed.
    case tlsReady
    /// No input for the idle timeout.
    case idleTimeout
    /// The server is stopping: finish what is under way and close.
    case shutdown
    /// The peer closed the connection, or it failed.
    case closed
    /// Something outside the connection wants the session's attention (IMAP: the account
    /// changed); what it is waits elsewhere.
    case wakeup
}

/// Turns inbound bytes and pipeline events into `InboundEvent`s.
public final class InboundBridge: ChannelInboundHandler, @unchecked Sendable {
    public typealias InboundIn = ByteBuffer

    private let continuation: AsyncStream<InboundEvent>.Continuation

    public init(continuation: AsyncStream<InboundEvent>.Continuation) {
        self.continuation = continuation
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        self.continuation.yield(.bytes(Array(buffer.readableBytesView)))
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            self.continuation.yield(.tlsReady)
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            self.continuation.yield(.idleTimeout)
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        self.continuation.yield(.closed)
        self.continuation.finish()
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS failure or reset: the session sees the connection as closed.
        self.continuation.yield(.closed)
        self.continuation.finish()
        context.close(promise: nil)
    }
}

/// The connections of a listener, each running as a task, to stop them together.
public final class ConnectionSet: Sendable {
    private struct Entry {
        var task: Task<Void, Never>
        var continuation: AsyncStream<InboundEvent>.Continuation
        var channel: any Channel
    }
    private struct State {
        var nextID = 0
        var entries: [Int: Entry] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    /// Runs a connection's session; it leaves the set when `run` returns.
    public func start(
        channel: any Channel,
        continuation: AsyncStream<InboundEvent>.Continuation,
        run: @escaping @Sendable () async -> Void
    ) {
        self.state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            let task = Task {
                await run()
                _ = self.state.withLock { $0.entries.removeValue(forKey: id) }
            }
            state.entries[id] = Entry(task: task, continuation: continuation, channel: channel)
        }
    }

    /// Tells every connection to finish, waits up to `grace` for them, then closes what is left
    /// (cancelling sessions that wait on something else) and waits for their tasks to end.
    public func shutdown(grace: Duration) async {
        let current = self.state.withLock { Array($0.entries.values) }
        for entry in current {
            entry.continuation.yield(.shutdown)
        }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, !self.state.withLock({ $0.entries.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for entry in self.state.withLock({ Array($0.entries.values) }) {
            entry.channel.close(promise: nil)
            entry.task.cancel()
        }
        for entry in current {
            await entry.task.value
        }
    }
}

/// Counts per IP address in fixed windows of time: connections per minute, failed logins per
/// hour. Bounded: when it tracks too many addresses, expired windows are dropped.
public final class PerIPWindows: Sendable {
    private struct Window {
        var start: Int
        var count: Int
    }
    private let entries = Mutex<[String: Window]>([:])
    /// The window's length in seconds.
    public let seconds: Int

    public init(seconds: Int) {
        self.seconds = seconds
    }

    /// Adds `add` to the IP's count in the current window and returns the count.
    public func count(_ ip: String, add: Int) -> Int {
        let now = Self.monotonicSeconds()
        let window = self.seconds
        return self.entries.withLock { entries in
            if entries.count > 100_000 {
                entries = entries.filter { now - $0.value.start < window }
            }
            var entry = entries[ip] ?? Window(start: now, count: 0)
            if now - entry.start >= window {
                entry = Window(start: now, count: 0)
            }
            entry.count += add
            entries[ip] = entry
            return entry.count
        }
    }

    static func monotonicSeconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec
    }
}
