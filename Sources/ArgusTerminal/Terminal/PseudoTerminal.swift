import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pseudo-terminal pair (Linux /dev/ptmx): a child process gets the terminal side, the
/// caller reads what it draws and types into it from the controlling side. Used by the
/// end-to-end test and the idle-CPU benchmark of `argus dash`.
public final class PseudoTerminal {
    public let master: Int32
    /// The terminal side, for a child's standard input, output and error.
    public let terminal: FileHandle

    // _IOR('T', 0x30, unsigned int) and _IOW('T', 0x31, int): Swift does not import these macros.
    static let TIOCGPTN: UInt = 0x8004_5430
    static let TIOCSPTLCK: UInt = 0x4004_5431

    public init(width: Int, height: Int) throws {
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        guard master >= 0 else { throw DataSourceError("cannot open /dev/ptmx (errno \(errno))") }
        var unlock: Int32 = 0
        var n: UInt32 = 0
        guard ioctl(master, PseudoTerminal.TIOCSPTLCK, &unlock) == 0, ioctl(master, PseudoTerminal.TIOCGPTN, &n) == 0 else {
            close(master)
            throw DataSourceError("cannot set up the pseudo-terminal (errno \(errno))")
        }
        var ws = winsize(ws_row: UInt16(height), ws_col: UInt16(width), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &ws)
        let fd = open("/dev/pts/\(n)", O_RDWR | O_NOCTTY)
        guard fd >= 0 else {
            close(master)
            throw DataSourceError("cannot open /dev/pts/\(n) (errno \(errno))")
        }
        terminal = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Changes the window size (the child gets SIGWINCH when the pty is its controlling terminal).
    public func resize(width: Int, height: Int) {
        var ws = winsize(ws_row: UInt16(height), ws_col: UInt16(width), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &ws)
    }

    public func write(_ s: String) {
        let b = Array(s.utf8)
        _ = b.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
    }

    /// What the child wrote within `timeoutMillis` (and until it pauses for 20 ms).
    public func read(timeoutMillis: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        var wait = timeoutMillis
        var buf = [UInt8](repeating: 0, count: 65536)
        while poll(&pfd, 1, wait) > 0 {
            let n = buf.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
            wait = 20
        }
        return out
    }

    deinit { close(master) }
}
