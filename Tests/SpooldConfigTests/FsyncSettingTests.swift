import Testing
@testable import SpooldConfig

/// `fsync` (contract §5): off by default, `fsync = yes` in [general], `--[no-]fsync` over it.
@Suite("The fsync setting")
struct FsyncSettingTests {
    func layer(_ text: String) -> (SettingsLayer, [String]) {
        let (layer, errors) = SettingsReader.read(Array(text.utf8), file: "/etc/spoold/spoold.conf")
        return (layer, errors.map(\.description))
    }

    func resolve(flag: Bool?, file text: String?) throws -> SpooldSettings {
        var commandLine = SettingsLayer(source: SettingsLayer.commandLine)
        commandLine.backend = .simulate
        commandLine.fsync = flag
        let file = text.map { layer($0).0 }
        return try SpooldSettings.resolve(commandLine: commandLine, file: file, environment: [:]).get()
    }

    @Test("Read from [general] as a boolean; a bad value is an error naming the line and the key")
    func readFromGeneral() {
        #expect(layer("[general]\nfsync = yes\n").0.fsync == true)
        #expect(layer("[general]\nfsync = off\n").0.fsync == false)
        #expect(layer("[general]\n").0.fsync == nil)
        let (bad, errors) = layer("[general]\nfsync = sometimes\n")
        #expect(bad.fsync == nil)
        #expect(errors.count == 1)
        #expect(errors.first?.contains("spoold.conf:2") == true)
        #expect(errors.first?.contains("fsync") == true)
    }

    @Test("Off by default; the file's value over the default; the flag over the file, --no-fsync included")
    func precedence() throws {
        #expect(try resolve(flag: nil, file: nil).fsync == false)
        #expect(try resolve(flag: nil, file: "[general]\nfsync = yes\n").fsync == true)
        #expect(try resolve(flag: true, file: "[general]\nfsync = no\n").fsync == true)
        #expect(try resolve(flag: false, file: "[general]\nfsync = yes\n").fsync == false)
    }
}
