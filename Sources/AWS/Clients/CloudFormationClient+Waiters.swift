import Foundation

extension CloudFormationClient {
    /// Stack statuses that end an operation successfully.
    public static let successStatuses: Set<String> = ["CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"]
    /// Stack statuses that end an operation in failure (rollbacks included: the change did not happen).
    public static let failureStatuses: Set<String> = [
        "CREATE_FAILED", "DELETE_FAILED", "UPDATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_FAILED",
    ]

    /// How a stack status ends a wait.
    public enum StatusOutcome: Sendable, Equatable {
        /// The operation finished and did what was asked.
        case succeeded
        /// The operation finished without doing it (failed or rolled back).
        case failed
        /// Still going (including REVIEW_IN_PROGRESS and the cleanup phases).
        case inProgress
    }

    /// Classifies a stack status.
    public static func outcome(ofStatus status: String) -> StatusOutcome {
        if status.hasSuffix("_IN_PROGRESS") { return .inProgress }
        if successStatuses.contains(status) { return .succeeded }
        if failureStatuses.contains(status) || status.hasSuffix("_FAILED") || status.contains("ROLLBACK") { return .failed }
        return .inProgress
    }

    /// Polls a change set until it is created. Returns it when CREATE_COMPLETE, or when it
    /// FAILED only because nothing changes (`hasNoChanges`); throws `.changeSetFailed` otherwise.
    public func waitForChangeSet(stackName: String, changeSetName: String, pollInterval: Duration = .seconds(2),
                                 timeout: Duration = .seconds(600)) async throws -> ChangeSet {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let changeSet = try await describeChangeSet(stackName: stackName, changeSetName: changeSetName)
            if changeSet.status == "CREATE_COMPLETE" || changeSet.hasNoChanges { return changeSet }
            if changeSet.status == "FAILED" {
                throw AWSError.changeSetFailed(stack: stackName, changeSet: changeSetName, reason: changeSet.statusReason)
            }
            if clock.now >= deadline {
                throw AWSError.waiterTimedOut(what: "change set \(changeSetName) of stack \(stackName)", lastStatus: changeSet.status,
                                              seconds: Int(timeout.components.seconds))
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// The id of the newest event of a stack (nil when it has none or does not exist): take it
    /// before starting an operation and pass it to `stackEvents(…afterEventID:)`, so only the
    /// operation's own events are shown.
    public func latestEventID(stackName: String) async throws -> String? {
        do {
            return try await describeStackEvents(stackName: stackName).events.first?.eventID
        } catch let error as AWSError where Self.isStackMissing(error) {
            return nil
        }
    }

    /// Follows a stack operation: yields each new stack event (oldest first) as it appears, and
    /// finishes when the stack reaches a terminal status. Throws `.stackOperationFailed` (with
    /// the first failed resource's reason) for *_FAILED and *ROLLBACK* statuses, and
    /// `.waiterTimedOut` after `timeout`. A stack that disappears (deleted by name) finishes
    /// the stream normally.
    public func stackEvents(stackName: String, afterEventID: String? = nil, pollInterval: Duration = .seconds(5),
                            timeout: Duration = .seconds(3600)) -> AsyncThrowingStream<StackEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await follow(stackName: stackName, afterEventID: afterEventID, pollInterval: pollInterval, timeout: timeout) {
                        continuation.yield($0)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Waits for a stack operation to end, calling `onEvent` for each new event; returns the
    /// final stack (nil when it was deleted). Errors as in `stackEvents`.
    @discardableResult
    public func waitForStack(stackName: String, afterEventID: String? = nil, pollInterval: Duration = .seconds(5),
                             timeout: Duration = .seconds(3600), onEvent: @Sendable (StackEvent) -> Void = { _ in }) async throws -> Stack? {
        try await follow(stackName: stackName, afterEventID: afterEventID, pollInterval: pollInterval, timeout: timeout, onEvent: onEvent)
    }

    @discardableResult
    private func follow(stackName: String, afterEventID: String?, pollInterval: Duration, timeout: Duration,
                        onEvent: (StackEvent) -> Void) async throws -> Stack? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var seen = Set<String>()
        var marker = afterEventID
        var firstFailure: StackEvent?
        var lastStatus = "unknown"
        while true {
            // New events: pages newest first, until the marker or an event already shown.
            var fresh: [StackEvent] = []
            var token: String?
            var reachedKnown = false
            var pages = 0
            repeat {
                let page: (events: [StackEvent], nextToken: String?)
                do {
                    page = try await describeStackEvents(stackName: stackName, nextToken: token)
                } catch let error as AWSError where Self.isStackMissing(error) {
                    return nil
                }
                for event in page.events {
                    if event.eventID == marker || seen.contains(event.eventID) { reachedKnown = true; break }
                    fresh.append(event)
                }
                token = page.nextToken
                pages += 1
            } while !reachedKnown && token != nil && pages < 20
            for event in fresh.reversed() {
                seen.insert(event.eventID)
                if firstFailure == nil, event.resourceStatus.hasSuffix("_FAILED"), event.resourceStatusReason != nil,
                   !(event.resourceStatusReason ?? "").contains("cancelled") {
                    firstFailure = event
                }
                onEvent(event)
            }
            if marker == nil, let newest = fresh.first { marker = newest.eventID }
            guard let stack = try await describeStack(stackName) else { return nil }
            lastStatus = stack.status
            switch Self.outcome(ofStatus: stack.status) {
            case .succeeded:
                return stack
            case .failed:
                let reason = firstFailure.map { "\($0.logicalResourceID) (\($0.resourceType)) \($0.resourceStatus): \($0.resourceStatusReason ?? "")" }
                    ?? stack.statusReason
                throw AWSError.stackOperationFailed(stack: stackName, status: stack.status, reason: reason)
            case .inProgress:
                break
            }
            if clock.now >= deadline {
                throw AWSError.waiterTimedOut(what: "stack \(stackName)", lastStatus: lastStatus, seconds: Int(timeout.components.seconds))
            }
            try await Task.sleep(for: pollInterval)
        }
    }
}
