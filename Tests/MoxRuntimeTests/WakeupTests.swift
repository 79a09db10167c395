import Testing

@testable import MoxRuntime

@Suite struct WakeupTests {
    /// A signal ends a wait at once; the wait's own timer, cancelled then, must not leave a
    /// signal behind (the queue runner's loop would then spin instead of waiting).
    @Test func signalEndsWaitAndLeavesNothingBehind() async {
        let w = Wakeup()
        Task {
            try? await Task.sleep(for: .milliseconds(20))
            w.signal()
        }
        let start = ContinuousClock.now
        await w.wait(seconds: 30)
        #expect(ContinuousClock.now - start < .seconds(25))
        // The next wait runs its full time: nothing pending.
        let again = ContinuousClock.now
        await w.wait(seconds: 0.4)
        #expect(ContinuousClock.now - again >= .milliseconds(350))
    }

    @Test func signalBeforeWaitIsKept() async {
        let w = Wakeup()
        w.signal()
        let start = ContinuousClock.now
        await w.wait(seconds: 30)
        #expect(ContinuousClock.now - start < .seconds(25))
    }
}
