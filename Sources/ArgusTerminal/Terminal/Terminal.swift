import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal's settings before raw mode, for the signal handlers that restore it. A signal
/// handler can reach nothing else, so this is the one piece of global state here; it is set
/// once on `enter()` and read only to restore.
nonisolated(unsafe) private var savedTermios = termios()
nonisolated(unsafe) private var savedValid: Int32 = 0
nonisolated(unsafe) private var savedFD: Int32 = 0

/// Leaves the alternate screen, shows the cursor and puts the saved settings back; uses only
/// async-signal-safe calls.
private func restoreTerminal() {
    guard savedValid != 0 else { return }
    let seq: [UInt8] = Array("\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l".utf8)
    _ = seq.withUnsafeBytes { write(savedFD, $0.baseAddress, $0.count) }
    _ = tcsetattr(savedFD, TCSAFLUSH, &savedTermios)
    savedValid = 0
}

/// A terminal in raw mode on the alternate screen: keys arrive unbuffered and unechoed, Ctrl-C
/// is a key, and the screen the user had comes back on `leave()`, at exit, on SIGTERM/SIGHUP
/// and on a crash signal.
public final class Terminal {
    public let input: Int32
    public let output: Int32

    public init(input: Int32 = 0, output: Int32 = 1) {
        self.input = input
        self.output = output
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

    /// Columns and rows (from TIOCGWINSZ; 80×24 when unknown).
    public var size: (width: Int, height: Int) {
        var ws = winsize()
        if ioctl(output, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 { return (Int(ws.ws_col), Int(ws.ws_row)) }
        return (80, 24)
    }

    /// Raw mode, alternate screen, hidden cursor; restore handlers installed.
    public func enter() throws {
        var t = termios()
        guard tcgetattr(input, &t) == 0 else { throw DataSourceError("not a terminal (tcgetattr: errno \(errno))") }
        savedTermios = t
        savedFD = output
        savedValid = 1
        var raw = t
        raw.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
        raw.c_oflag &= ~tcflag_t(OPOST)
        raw.c_cflag |= tcflag_t(CS8)
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(input, TCSAFLUSH, &raw) == 0 else { throw DataSourceError("cannot set raw mode (errno \(errno))") }
        write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[2J")
        atexit { restoreTerminal() }
        for sig in [SIGTERM, SIGHUP, SIGINT, SIGQUIT] {
            signal(sig) { s in
                restoreTerminal()
                _exit(128 + s)
            }
        }
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            signal(sig) { s in
                restoreTerminal()
                signal(s, SIG_DFL)
                raise(s)
            }
        }
    }

    /// Restores the terminal as it was before `enter()`.
    public func leave() { restoreTerminal() }

    public func write(_ s: String) { write(Array(s.utf8)) }

    public func write(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + off, $0.count - off) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return }
            off += n
        }
    }
}
