import Testing
@testable import SpoolWatcher

/// The event rules, fed directly: no file system, no clock but the instants given.
struct SpoolDirectoryStateTests {
    let start = ContinuousClock.now
    var state = SpoolDirectoryState()

    @Test mutating func renamedInAppearsAtOnce() {
        #expect(state.handle(.movedTo, name: "a.call", now: start) == .appeared("a.call"))
        #expect(state.pendingCount == 0)
    }

    @Test mutating func createdInPlaceAppearsWhenClosedAfterWriting() {
        #expect(state.handle(.create, name: "a", now: start) == nil)
        #expect(state.handle(.open, name: "a", now: start) == nil)
        #expect(state.handle(.attrib, name: "a", now: start) == nil)
        #expect(state.expire(now: start + .seconds(10)) == [])
        #expect(state.handle(.closeWrite, name: "a", now: start + .seconds(10)) == .appeared("a"))
        #expect(state.pendingCount == 0)
    }

    @Test mutating func createdWithoutOpenAppearsWhenTheGraceEnds() {
        #expect(state.handle(.create, name: "link", now: start) == nil)
        #expect(state.nextDeadline() == start + .seconds(2))
        #expect(state.expire(now: start + .milliseconds(1999)) == [])
        #expect(state.expire(now: start + .seconds(2)) == [.appeared("link")])
        #expect(state.expire(now: start + .seconds(5)) == [])
        #expect(state.nextDeadline() == nil)
    }

    @Test mutating func expiryKeepsCreationOrder() {
        _ = state.handle(.create, name: "b", now: start)
        _ = state.handle(.create, name: "a", now: start + .milliseconds(10))
        #expect(state.expire(now: start + .seconds(3)) == [.appeared("b"), .appeared("a")])
    }

    @Test mutating func openedNameNoLongerExpires() {
        _ = state.handle(.create, name: "a", now: start)
        _ = state.handle(.open, name: "a", now: start)
        #expect(state.nextDeadline() == nil)
        #expect(state.expire(now: start + .seconds(60)) == [])
    }

    @Test mutating func readerClosingAPendingNameRestartsTheGrace() {
        _ = state.handle(.create, name: "a", now: start)
        _ = state.handle(.open, name: "a", now: start)
        #expect(state.handle(.closeNoWrite, name: "a", now: start + .seconds(1)) == nil)
        #expect(state.expire(now: start + .milliseconds(2500)) == [])
        #expect(state.expire(now: start + .seconds(3)) == [.appeared("a")])
    }

    @Test mutating func rewrittenOrTouchedFileIsChanged() {
        #expect(state.handle(.open, name: "old", now: start) == nil)
        #expect(state.handle(.closeWrite, name: "old", now: start) == .changed("old"))
        #expect(state.handle(.attrib, name: "old", now: start) == .changed("old"))
        #expect(state.handle(.closeNoWrite, name: "old", now: start) == nil)
    }

    @Test mutating func deletedOrRenamedAwayIsRemovedAndForgotten() {
        _ = state.handle(.create, name: "a", now: start)
        #expect(state.handle(.delete, name: "a", now: start) == .removed("a"))
        #expect(state.expire(now: start + .seconds(3)) == [])
        _ = state.handle(.create, name: "b", now: start)
        _ = state.handle(.open, name: "b", now: start)
        #expect(state.handle(.movedFrom, name: "b", now: start) == .removed("b"))
        #expect(state.handle(.closeWrite, name: "b", now: start) == .changed("b"))
    }

    @Test mutating func recreatedNameWaitsForItsNewGrace() {
        _ = state.handle(.create, name: "a", now: start)
        _ = state.handle(.delete, name: "a", now: start)
        _ = state.handle(.create, name: "a", now: start + .seconds(1))
        #expect(state.expire(now: start + .seconds(2)) == [])
        #expect(state.expire(now: start + .seconds(3)) == [.appeared("a")])
    }

    @Test mutating func resetForgetsEverythingPending() {
        _ = state.handle(.create, name: "a", now: start)
        _ = state.handle(.create, name: "b", now: start)
        _ = state.handle(.open, name: "b", now: start)
        state.reset()
        #expect(state.pendingCount == 0)
        #expect(state.expire(now: start + .seconds(3)) == [])
        #expect(state.handle(.closeWrite, name: "b", now: start) == .changed("b"))
    }

    @Test mutating func manyOpenedNamesLeaveNoDeadlineBehind() {
        for index in 0..<5000 {
            _ = state.handle(.create, name: "f\(index)", now: start)
            _ = state.handle(.open, name: "f\(index)", now: start)
        }
        #expect(state.nextDeadline() == nil)
        #expect(state.pendingCount == 5000)
    }
}
