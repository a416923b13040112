import Testing
@testable import AmtswegCore

@Suite("Application state machine")
struct ApplicationStatusTests {
    @Test("allowed transitions succeed and carry from/to")
    func allowed() throws {
        let change = try ApplicationStatus.received.transition(to: .inProgress, reason: nil)
        #expect(change == StatusChange(from: .received, to: .inProgress, reason: nil))
        #expect(try ApplicationStatus.inProgress.transition(to: .completed, reason: "  ").reason == nil)
    }

    @Test("forbidden transitions are refused", arguments: [
        (ApplicationStatus.received, ApplicationStatus.completed), (.completed, .inProgress), (.rejected, .received),
        (.inProgress, .received), (.completed, .rejected),
    ])
    func forbidden(from: ApplicationStatus, to: ApplicationStatus) {
        #expect(throws: TransitionError.notAllowed(from: from, to: to)) { try from.transition(to: to, reason: "x") }
    }

    @Test("a rejection needs a reason of at most 2000 characters")
    func rejectionReason() throws {
        #expect(throws: TransitionError.reasonRequired) { try ApplicationStatus.received.transition(to: .rejected, reason: " ") }
        #expect(throws: TransitionError.reasonTooLong) {
            try ApplicationStatus.received.transition(to: .rejected, reason: String(repeating: "a", count: 2001))
        }
        #expect(try ApplicationStatus.inProgress.transition(to: .rejected, reason: " kein Eintrag ").reason == "kein Eintrag")
    }

    @Test("final states allow nothing")
    func finalStates() {
        #expect(ApplicationStatus.completed.isFinal && ApplicationStatus.rejected.isFinal)
        #expect(!ApplicationStatus.received.isFinal)
    }
}
