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
