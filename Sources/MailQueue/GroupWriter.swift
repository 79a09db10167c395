import Dispatch
import GRDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

struct CompletionItem: Sendable {
    var id: Int64
    var result: QueueAttemptResult
    var completion: MailQueue.Completion
}

/// Group commit for the queue's frequent writes: whoever arrives while a transaction is being
/// written waits for the next one, which then carries every waiting job; each job has its own
/// savepoint, so one failing (a fromid that is not unique) leaves the others in. One commit and
/// one flush of the files per group, however many submissions and deliveries are in it.
final class GroupWriter: Sendable {
    enum Job: Sendable {
        case add(NewQueueMessage, Int64)
        case complete([CompletionItem], Int64, @Sendable (String) -> Int64)
    }

    enum Outcome: Sendable {
        case added([QueuedMessage])
        case completed
    }

    typealias Waiter = CheckedContinuation<Result<Outcome, QueueError>, Never>

    private struct State {
        var pending: [(Job, Waiter)] = []
        var running = false
    }

    private let state = Mutex(State())
    private let thread = DispatchQueue(label: "mailqueue.groupwriter")

    func run(_ job: Job, queue: MailQueue) async throws(QueueError) -> Outcome {
        let result = await withCheckedContinuation { (c: Waiter) in
            let lead = self.state.withLock { s -> Bool in
                s.pending.append((job, c))
                if s.running { return false }
                s.running = true
                return true
            }
            if lead {
                self.thread.async { self.drain(queue) }
            }
        }
        return try result.get()
    }

    private func drain(_ queue: MailQueue) {
        while true {
            let batch = self.state.withLock { s -> [(Job, Waiter)] in
                let b = s.pending
                s.pending = []
                if b.isEmpty { s.running = false }
                return b
            }
            if batch.isEmpty { return }
            self.write(batch, queue)
        }
    }

    private func write(_ batch: [(Job, Waiter)], _ queue: MailQueue) {
        var results = [Result<Outcome, QueueError>?](repeating: nil, count: batch.count)
        var createdByJob = [[String]](repeating: [], count: batch.count)
        var removed: [Int64] = []
        do {
            try queue.database.write { db in
                for (i, (job, _)) in batch.enumerated() {
                    do {
                        try db.inSavepoint {
                            switch job {
                            case .add(let new, let now):
                                var created: [String] = []
                                defer { createdByJob[i] = created }
                                results[i] = .success(.added(try queue.insert(new, now: now, db, created: &created)))
                            case .complete(let items, let now, let keep):
                                removed += try queue.completeRows(items, now: now, db, keepSeconds: keep)
                                results[i] = .success(.completed)
                            }
                            return .commit
                        }
                    } catch {
                        for path in createdByJob[i] { unlink(path) }
                        createdByJob[i] = []
                        results[i] = .failure(error as? QueueError ?? QueueError(.database, "queue database: \(error)"))
                    }
                }
                // The new files are durable before the rows that point at them.
                try MailQueue.syncFiles(createdByJob.flatMap { $0 })
            }
        } catch {
            // The whole transaction failed: nothing of it is stored.
            for paths in createdByJob { for p in paths { unlink(p) } }
            let failure = error as? QueueError ?? QueueError(.database, "queue database: \(error)")
            for (_, waiter) in batch { waiter.resume(returning: .failure(failure)) }
            return
        }
        for id in removed { unlink(queue.path(for: id)) }
        for (i, (_, waiter)) in batch.enumerated() {
            waiter.resume(returning: results[i] ?? .failure(QueueError(.database, "no result")))
        }
    }
}
