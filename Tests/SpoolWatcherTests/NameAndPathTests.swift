import Testing
@testable import SpoolWatcher

struct NameAndPathTests {
    @Test func dotNamesAreHiddenAndBadBytesAreFlagged() {
        #expect(DirectoryListing.reportableName(Array("a.call".utf8)) == .name("a.call"))
        #expect(DirectoryListing.reportableName(Array(".staging".utf8)) == .hidden)
        #expect(DirectoryListing.reportableName(Array("..".utf8)) == .hidden)
        #expect(DirectoryListing.reportableName([0x66, 0xFF, 0x66]) == .notUTF8)
        #expect(DirectoryListing.reportableName([UInt8]()) == .none)
    }

    @Test("ASCII names and other UTF-8 names are reported as they are; bad bytes after ASCII ones are still caught")
    func namesKeepEveryByte() {
        #expect(DirectoryListing.reportableName(Array("café-ü.call".utf8)) == .name("café-ü.call"))
        #expect(DirectoryListing.reportableName(Array("a b\tc~.call".utf8)) == .name("a b\tc~.call"))
        #expect(DirectoryListing.reportableName(Array("abc.call".utf8) + [0xC3]) == .notUTF8)
        #expect(DirectoryListing.reportableName(Array("abc.call".utf8)[...]) == .name("abc.call"))
        #expect(DirectoryListing.reportableName(AnyCollection(Array("ab\u{FF}".utf8))) == .name("ab\u{FF}"))
        #expect(DirectoryListing.reportableName(AnyCollection<UInt8>([0x61, 0xFF])) == .notUTF8)
    }

    @Test func pathsAreMadeAbsoluteAndTidy() {
        #expect(SpoolPath.absolute("/var//spool/./asterisk/outgoing/") == "/var/spool/asterisk/outgoing")
        #expect(SpoolPath.absolute("/var/spool/x/../outgoing") == "/var/spool/outgoing")
        #expect(SpoolPath.absolute("relative").hasPrefix("/"))
        #expect(SpoolPath.absolute("relative").hasSuffix("/relative"))
    }

    @Test func splitGivesParentAndName() {
        #expect(SpoolPath.split("/var/spool/outgoing")! == ("/var/spool", "outgoing"))
        #expect(SpoolPath.split("/outgoing")! == ("/", "outgoing"))
        #expect(SpoolPath.split("/") == nil)
    }
}
