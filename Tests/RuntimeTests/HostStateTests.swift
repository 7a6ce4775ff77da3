import Foundation
import Runtime
import Testing

/// Where the host state and the per-user store are, for each way a user can be set up.
struct HostStateTests {
    @Test func rootKeepsStateInVarLib() {
        let env = ["HOME": "/root", "XDG_STATE_HOME": "/root/.state", "XDG_DATA_HOME": "/root/.data"]
        #expect(HostState.directory(environment: env, effectiveUser: 0) == "/var/lib/stackship")
        #expect(HostState.defaultStore(environment: env, effectiveUser: 0) == "/var/lib/stackship/store")
    }

    @Test func aUserKeepsStateAndImagesWhereXDGSays() {
        let plain = ["HOME": "/home/ada"]
        #expect(HostState.directory(environment: plain, effectiveUser: 1000) == "/home/ada/.local/state/stackship")
        #expect(HostState.defaultStore(environment: plain, effectiveUser: 1000) == "/home/ada/.local/share/stackship/store")
        let xdg = ["HOME": "/home/ada", "XDG_STATE_HOME": "/srv/state/", "XDG_DATA_HOME": "/srv/data"]
        #expect(HostState.directory(environment: xdg, effectiveUser: 1000) == "/srv/state/stackship")
        #expect(HostState.defaultStore(environment: xdg, effectiveUser: 1000) == "/srv/data/stackship/store")
        // A relative XDG path is ignored, as the XDG base directory specification says.
        let relative = ["HOME": "/home/ada", "XDG_STATE_HOME": "state", "XDG_DATA_HOME": ""]
        #expect(HostState.directory(environment: relative, effectiveUser: 1000) == "/home/ada/.local/state/stackship")
        #expect(HostState.defaultStore(environment: relative, effectiveUser: 1000) == "/home/ada/.local/share/stackship/store")
    }

    @Test func stackshipStateMovesEverythingForRootAndUsersAlike() {
        for user: uid_t in [0, 1000] {
            let env = ["HOME": "/home/ada", "STACKSHIP_STATE": "/tmp/t1//", "XDG_STATE_HOME": "/srv/state"]
            #expect(HostState.directory(environment: env, effectiveUser: user) == "/tmp/t1")
            #expect(HostState.defaultStore(environment: env, effectiveUser: user) == "/tmp/t1/store")
        }
        // Relative: to the current folder, as STACKSHIP_STORE is.
        let cwd = FileManager.default.currentDirectoryPath
        #expect(HostState.directory(environment: ["STACKSHIP_STATE": "./here/state"], effectiveUser: 1000) == cwd + "/here/state")
        // Empty counts as unset.
        #expect(HostState.directory(environment: ["STACKSHIP_STATE": ""], effectiveUser: 0) == "/var/lib/stackship")
    }
}
