import CallFile
import Testing
@testable import Spooler

/// `FinishPlan`: how a finished file leaves outgoing/, facts in → first step out.
@Suite("Finishing a file: the plan")
struct FinishPlanTests {
    static let now = SpoolInstant(seconds: 1_795_364_000)
    static let own = now.adding(seconds: 600)
    static let id = FileID(device: 1, inode: 42)

    static func info(_ mtime: SpoolInstant, _ kind: EntryKind = .regular) -> EntryInfo {
        EntryInfo(kind: kind, mtime: mtime, size: 40, uid: 0, mode: 0o644, fileID: FileID(device: 1, inode: 7))
    }

    static func plan(archive: Bool, alwaysDelete: Bool, marked: FileID? = nil) -> FinishPlan {
        FinishPlan(status: .completed, summary: "Completed", rule: .init(archive: archive, alwaysDelete: alwaysDelete),
                   ownMtime: own, marked: marked)
    }

    @Test("AlwaysDelete: no keeps only a file whose mtime someone else moved ahead; a marked file is moved; else mark or delete",
          arguments: [
              (plan(archive: true, alwaysDelete: true), Optional(info(now.adding(seconds: 60))), FinishPlan.Step.mark),
              (plan(archive: false, alwaysDelete: true), info(now.adding(seconds: 60)), .delete),
              (plan(archive: true, alwaysDelete: false), info(now.adding(seconds: 60)), .keep(due: now.adding(seconds: 60))),
              (plan(archive: false, alwaysDelete: false), info(now.adding(seconds: 60)), .keep(due: now.adding(seconds: 60))),
              (plan(archive: true, alwaysDelete: false), info(own), .mark),  // spoold's own StartRetry mtime
              (plan(archive: false, alwaysDelete: false), info(now), .delete),  // not in the future
              (plan(archive: true, alwaysDelete: false), nil, .mark),
              (plan(archive: true, alwaysDelete: false), info(now.adding(seconds: 60), .symlink), .mark),
              (plan(archive: true, alwaysDelete: false, marked: id), info(now.adding(seconds: 60)), .move(id)),
              (plan(archive: false, alwaysDelete: true, marked: id), nil, .move(id)),
          ])
    func firstStep(plan: FinishPlan, info: EntryInfo?, step: FinishPlan.Step) {
        #expect(plan.firstStep(info: info, now: Self.now) == step)
    }

    @Test("A hostile or unreadable file is moved aside as Failed whatever it says")
    func aside() {
        let plan = FinishPlan.aside("too large")
        #expect(plan.status == .failed && plan.summary == "Failed (too large)" && plan.rule == .moveAside)
        #expect(plan.firstStep(info: Self.info(Self.now.adding(seconds: 60)), now: Self.now) == .mark)
    }

    @Test("The file's own options decide the rule")
    func fileRule() {
        let file = CallFileParser.parse(Array("Channel: Sim/x\nApplication: Wait\nArchive: yes\nAlwaysDelete: no\n".utf8),
                                        path: "f.call").file
        let plan = FinishPlan(.expired, "Expired after 1 attempts", file, ownMtime: Self.own)
        #expect(plan.rule == .init(archive: true, alwaysDelete: false) && plan.ownMtime == Self.own && plan.marked == nil)
        #expect(FinishPlan(.failed, "Failed", CallFileParser.parse(Array("Channel: Sim/x\n".utf8), path: "g.call").file).rule
            == .init(archive: false, alwaysDelete: true))
    }

    @Test("A failed step is retried with the same Status and summary, the file looked at again; its name follows the rule")
    func retried() {
        let plan = Self.plan(archive: false, alwaysDelete: false, marked: Self.id)
        #expect(plan.step == "delete")
        let again = plan.retried()
        #expect(again == FinishPlan(status: .completed, summary: "Completed", rule: plan.rule))
        let aside = plan.retried(rule: .moveAside)
        #expect(aside.rule == .moveAside && aside.step == "archive" && aside.marked == nil && aside.ownMtime == nil)
    }
}
