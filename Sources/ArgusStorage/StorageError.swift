import ArgusModel

extension ArgusError {
    static func io(_ what: String, _ path: String, errno e: Int32) -> ArgusError {
        ArgusError(.io, "\(what) \(path): \(String(cString: strerror(e)))")
    }
}

#if canImport(Glibc)
import Glibc
#endif
