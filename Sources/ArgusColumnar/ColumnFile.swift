/// The envelope every Argus data file shares: an 8-byte header (4-byte magic, u16 format
/// version, u16 reserved), the body, and a 4-byte CRC-32C trailer over header and body.
public enum ColumnFile {
    public static let headerSize = 8
    public static let trailerSize = 4

    public static func header(magic: String, version: UInt16, into w: inout ByteWriter) {
        precondition(magic.utf8.count == 4)
        w.append(Array(magic.utf8))
        w.u16(version)
        w.u16(0)
    }

    public static func seal(_ w: inout ByteWriter) {
        let crc = CRC32C.checksum(w.bytes)
        w.u32(crc)
    }

    /// Checks magic, version and checksum; returns the body and the version.
    public static func open(_ file: UnsafeRawBufferPointer, magic: String, maxVersion: UInt16) throws -> (body: UnsafeRawBufferPointer, version: UInt16) {
        guard file.count >= headerSize + trailerSize else { throw ColumnarError.truncated }
        let m = Array(UnsafeRawBufferPointer(rebasing: file[0..<4]))
        guard m == Array(magic.utf8) else { throw ColumnarError.corrupt("bad magic, expected \(magic)") }
        let version = UInt16(file[4]) | UInt16(file[5]) << 8
        guard version >= 1, version <= maxVersion else { throw ColumnarError.unsupportedVersion(Int(version)) }
        let stored = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: file.count - 4, as: UInt32.self))
        let actual = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: file[0..<(file.count - 4)]))
        guard stored == actual else { throw ColumnarError.corrupt("checksum mismatch") }
        return (UnsafeRawBufferPointer(rebasing: file[headerSize..<(file.count - trailerSize)]), version)
    }
}
