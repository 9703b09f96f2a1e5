import CallFile
import Testing
@testable import Spooler

/// The core keeps one entry per file in outgoing/ and a rescan returns one action per file at once, so their
/// sizes are the engine's memory per waiting file (`spoold-bench engine`: RSS with 100,000 scheduled files).
@Suite("Engine footprint")
struct EngineFootprintTests {
    @Test("A file's entry is four words: its state and its memos are boxed, and it holds its place in the schedule")
    func entryIsFourWords() {
        #expect(MemoryLayout<SpoolStateMachine.FileState>.size <= 8)
        #expect(MemoryLayout<FileMemos>.size <= 8)
        #expect(MemoryLayout<Scheduler.Stamp>.size <= 16)
        #expect(MemoryLayout<SpoolStateMachine.Entry>.stride <= 32)
    }

    @Test("An action is at most four words: one .stat per file of a rescan stays small")
    func actionIsSmall() {
        #expect(MemoryLayout<SpoolStateMachine.Action>.stride <= 32)
    }

    @Test("Memos read back what was written, and take no box again once every field is back at its default")
    func memosKeepValues() {
        let t = SpoolInstant(seconds: 1_795_364_000)
        var memos = FileMemos()
        #expect(memos == FileMemos() && !memos.isBoxed)
        memos.stuckMtime = t
        memos.rememberedAttempts = 3
        memos.warnedSkipped = true
        #expect(memos.stuckMtime == t && memos.rememberedAttempts == 3 && memos.warnedSkipped)
        #expect(memos.heldUntil == nil && memos.refusedRecordWrites == 0)
        #expect(memos != FileMemos())
        #expect(memos == FileMemos(rememberedAttempts: 3, stuckMtime: t, warnedSkipped: true))
        let copy = memos
        memos.rememberedAttempts = 4
        #expect(copy.rememberedAttempts == 3)  // a value: the copy did not change
        memos.stuckMtime = nil
        memos.rememberedAttempts = 0
        memos.warnedSkipped = false
        #expect(memos == FileMemos())
        #expect(!memos.isBoxed)  // back at the defaults: the box is gone
    }

    @Test("A held file's state keeps its time through the box")
    func heldKeepsItsTime() {
        let t = SpoolInstant(seconds: 1_795_364_000)
        let held = SpoolStateMachine.FileState.held(until: t)
        #expect(held == .held(until: t))
        #expect(held != .held(until: t.adding(seconds: 1)))
        guard case .held(let until) = held else { Issue.record("not held"); return }
        #expect(until == t)
    }
}
