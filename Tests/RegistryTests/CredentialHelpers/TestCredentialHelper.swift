import Foundation

/// A real docker credential helper for tests, written as a POSIX shell script: it implements
/// `get`, `store`, `erase` and `list` of the helper protocol against a JSON file, so the code
/// under test runs a process, writes its standard input and reads its output exactly as it
/// would with docker-credential-pass or -osxkeychain.
///
/// Install it under any name with `install(in:name:)`. Each installed name keeps its own store,
/// `$STACKSHIP_TEST_HELPER_DIR/NAME.json`, one entry a line:
///
///     {
///     "ghcr.io": {"Username": "me", "Secret": "s3cret"}
///     }
///
/// and appends `NAME ACTION SERVER` to `$STACKSHIP_TEST_HELPER_DIR/calls.log` for every call.
/// `$STACKSHIP_TEST_HELPER_MODE` makes it misbehave: `fail` (exit 3, echoing its request on
/// standard error, as careless helpers do), `failget` (print the credential, then fail with the
/// secret on standard error), `garbage` (answer with text that is not JSON), `hang` (never answer).
/// Values may not contain '"' or '\'.
enum TestCredentialHelper {
    static let script = #"""
    #!/bin/sh
    set -u
    dir="${STACKSHIP_TEST_HELPER_DIR:?STACKSHIP_TEST_HELPER_DIR is not set}"
    name=$(basename "$0")
    store="$dir/$name.json"
    action="${1:-}"
    input=$(cat)

    field() { printf '%s\n' "$1" | sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p"; }
    entries() { grep '^"' "$store" | sed 's/,$//'; }
    lookup() { entries | awk -v k="\"$1\": {" 'index($0, k) == 1'; }
    without() { entries | awk -v k="\"$1\": {" 'index($0, k) != 1'; }
    save() {
      { echo '{'; awk 'NR > 1 { print prev "," } { prev = $0 } END { if (NR > 0) print prev }'; echo '}'; } > "$store.new" && mv "$store.new" "$store"
    }

    server="$input"
    [ "$action" = store ] && server=$(field "$input" ServerURL)
    printf '%s %s %s\n' "$name" "$action" "$server" >> "$dir/calls.log"
    [ -f "$store" ] || printf '{\n}\n' > "$store"

    case "${STACKSHIP_TEST_HELPER_MODE:-}" in
      fail) printf 'keychain locked; cannot handle request %s\n' "$input" >&2; exit 3 ;;
      garbage) echo "this is not JSON"; exit 0 ;;
      hang) exec sleep 30 ;;
    esac

    case "$action" in
      get)
        line=$(lookup "$input")
        if [ -z "$line" ]; then echo "credentials not found in native keychain"; exit 1; fi
        secret=$(field "$line" Secret)
        printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "$input" "$(field "$line" Username)" "$secret"
        if [ "${STACKSHIP_TEST_HELPER_MODE:-}" = failget ]; then
          echo "could not verify the secret $secret" >&2; exit 4
        fi ;;
      store)
        user=$(field "$input" Username); secret=$(field "$input" Secret)
        [ -n "$server" ] || { echo "store: the request has no ServerURL" >&2; exit 1; }
        { without "$server"; printf '"%s": {"Username": "%s", "Secret": "%s"}\n' "$server" "$user" "$secret"; } | save ;;
      erase)
        [ -n "$(lookup "$input")" ] || { echo "credentials not found in native keychain"; exit 1; }
        without "$input" | save ;;
      list)
        printf '{'
        entries | sed 's/^\("[^"]*"\): {"Username": \("[^"]*"\).*/\1: \2/' | awk 'NR > 1 { printf "," } { printf "%s", $0 }'
        printf '}\n' ;;
      *) echo "usage: $name get|store|erase|list" >&2; exit 2 ;;
    esac
    """#

    /// Writes the helper as `directory/docker-credential-NAME`, executable; returns its path.
    @discardableResult
    static func install(in directory: String, name: String = "stackship-test") throws -> String {
        let path = directory + "/docker-credential-" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Written through a close-on-exec descriptor: tests run in parallel and start processes,
        // and one that inherited a descriptor open for writing would make running the helper
        // fail with ETXTBSY ("text file busy") for as long as it lives.
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let bytes = Array(script.utf8)
        guard fchmod(fd, 0o755) == 0, write(fd, bytes, bytes.count) == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return path
    }
}
