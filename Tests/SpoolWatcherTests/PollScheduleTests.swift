import Testing
@testable import SpoolWatcher

struct PollScheduleTests {
    let start = ContinuousClock.now
    let directory = DirectoryIdentity(device: 1, inode: 10, modified: 100)

    @Test func firstLookListsAsInitial() {
        var schedule = PollSchedule(interval: .seconds(1))
        #expect(schedule.decide(now: start, observed: directory) == .list(.initial))
        var missing = PollSchedule(interval: .seconds(1))
        #expect(missing.decide(now: start, observed: nil) == .list(.initial))
    }

    @Test func listsWhenTheMtimeChangesAndAtLeastOncePerInterval() {
        var schedule = PollSchedule(interval: .seconds(1))
        _ = schedule.decide(now: start, observed: directory)
        #expect(schedule.decide(now: start + .milliseconds(250), observed: directory) == .wait)
        var touched = directory
        touched.modified = 200
        #expect(schedule.decide(now: start + .milliseconds(500), observed: touched) == .list(.poll))
        #expect(schedule.decide(now: start + .milliseconds(750), observed: touched) == .wait)
        #expect(schedule.decide(now: start + .milliseconds(1499), observed: touched) == .wait)
        #expect(schedule.decide(now: start + .milliseconds(1500), observed: touched) == .list(.poll))
    }

    @Test func goneIsReportedOnceThenReturnIsARecreation() {
        var schedule = PollSchedule(interval: .seconds(1))
        _ = schedule.decide(now: start, observed: directory)
        #expect(schedule.decide(now: start + .seconds(1), observed: nil) == .reportGone)
        #expect(schedule.decide(now: start + .seconds(2), observed: nil) == .wait)
        var recreated = directory
        recreated.inode = 11
        #expect(schedule.decide(now: start + .seconds(3), observed: recreated) == .list(.directoryRecreated))
    }

    @Test func replacedDirectoryIsARecreation() {
        var schedule = PollSchedule(interval: .seconds(1))
        _ = schedule.decide(now: start, observed: directory)
        var replaced = directory
        replaced.inode = 12
        #expect(schedule.decide(now: start + .milliseconds(100), observed: replaced) == .list(.directoryRecreated))
    }

    @Test func checksAFewTimesPerInterval() {
        #expect(PollSchedule(interval: .seconds(1)).checkPeriod == .milliseconds(250))
        #expect(PollSchedule(interval: .milliseconds(100)).checkPeriod == .milliseconds(25))
        #expect(PollSchedule(interval: .zero).checkPeriod == .milliseconds(10))
    }
}
