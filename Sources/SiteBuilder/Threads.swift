// Plain POSIX threads, for the few places that need real parallelism or a blocking thread
// of their own (Dispatch's concurrentPerform, called from a thread of the global pool, left
// the second core idle for most of a site build).

import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public enum Threads {
    /// Runs `body(0..<count)` on this thread and one more thread per further core, each
    /// taking the next index in order; returns when all are done.
    public static func parallel(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let next = Mutex(0)
        let work: @Sendable () -> Void = {
            while true {
                let i = next.withLock { n -> Int in
                    defer { n += 1 }
                    return n
                }
                if i >= count {
                    return
                }
                body(i)
            }
        }
        let extra = max(0, min(count, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) - 1)
        let threads = (0..<extra).compactMap { _ in Self.start(work) }
        work()
        for thread in threads {
            pthread_join(thread, nil)
        }
    }

    /// Runs `body` on a new thread that nobody waits for.
    public static func detach(_ body: @escaping @Sendable () -> Void) {
        if let thread = Self.start(body) {
            pthread_detach(thread)
        }
    }

    private final class Body: @unchecked Sendable {
        let run: @Sendable () -> Void

        init(_ run: @escaping @Sendable () -> Void) {
            self.run = run
        }
    }

    private static func start(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
        let box = Unmanaged.passRetained(Body(body))
        var thread = pthread_t()
        let rc = pthread_create(
            &thread,
            nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<Threads.Body>.fromOpaque(raw).takeRetainedValue().run()
                return nil
            },
            box.toOpaque()
        )
        guard rc == 0 else {
            box.release()
            return nil
        }
        return thread
    }
}
