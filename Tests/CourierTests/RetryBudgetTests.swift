import Courier
import Testing

@Suite("RetryBudget", .timeLimit(.minutes(1)))
struct RetryBudgetTests {
    @Test func startsFullAndAllowsRetries() {
        let budget = RetryBudget(maxTokens: 10, tokenRatio: 0.5)
        #expect(budget.available == 10)
        #expect(budget.allowsRetry)
        #expect(budget.maxTokens == 10)
        #expect(budget.tokenRatio == 0.5)
    }

    @Test func failuresWithdrawOneTokenAndRetriesStopAtHalfTheBucket() {
        let budget = RetryBudget(maxTokens: 10, tokenRatio: 0.1)
        for expected in stride(from: 9.0, through: 6.0, by: -1) {
            budget.recordFailure()
            #expect(budget.available == expected)
            #expect(budget.allowsRetry, "\(expected) tokens left")
        }
        // Exactly half is not enough: gRPC throttles once token_count <= max_tokens / 2.
        budget.recordFailure()
        #expect(budget.available == 5)
        #expect(!budget.allowsRetry)
    }

    @Test func tokensNeverGoBelowZeroNorAboveTheMaximum() {
        let budget = RetryBudget(maxTokens: 3, tokenRatio: 2)
        for _ in 0..<10 { budget.recordFailure() }
        #expect(budget.available == 0)
        budget.recordSuccess()
        #expect(budget.available == 2)
        budget.recordSuccess()
        #expect(budget.available == 3)
        for _ in 0..<10 { budget.recordSuccess() }
        #expect(budget.available == 3)
    }

    @Test func successesDepositTheTokenRatioUntilRetriesAreAllowedAgain() {
        let budget = RetryBudget(maxTokens: 4, tokenRatio: 0.25)
        for _ in 0..<4 { budget.recordFailure() }
        #expect(budget.available == 0)
        #expect(!budget.allowsRetry)
        // 2 tokens is still not above half; 2.25 is.
        for _ in 0..<8 { budget.recordSuccess() }
        #expect(budget.available == 2)
        #expect(!budget.allowsRetry)
        budget.recordSuccess()
        #expect(budget.available == 2.25)
        #expect(budget.allowsRetry)
    }

    @Test func zeroRatioNeverRefills() {
        let budget = RetryBudget(maxTokens: 2, tokenRatio: 0)
        budget.recordFailure()
        for _ in 0..<100 { budget.recordSuccess() }
        #expect(budget.available == 1)
        #expect(!budget.allowsRetry)
    }

    @Test func nonsenseSettingsAreClamped() {
        let budget = RetryBudget(maxTokens: -5, tokenRatio: -1)
        #expect(budget.maxTokens == 1)
        #expect(budget.tokenRatio == 0)
        #expect(budget.available == 1)
    }

    @Test func unlimitedNeverRefuses() {
        let budget = RetryBudget.unlimited
        for _ in 0..<100_000 { budget.recordFailure() }
        #expect(budget.allowsRetry)
    }

    @Test func concurrentUseLosesNoUpdates() async {
        let budget = RetryBudget(maxTokens: 10_000, tokenRatio: 0.5)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<500 { budget.recordFailure() }
                }
            }
        }
        #expect(budget.available == 6_000)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<250 { budget.recordSuccess() }
                }
            }
        }
        #expect(budget.available == 7_000)
    }
}
