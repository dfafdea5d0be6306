/// A key press, decoded from the bytes a terminal in raw mode sends.
public enum Key: Equatable, Sendable {
    case char(Character)
    case enter, esc, tab, backTab, backspace
    case up, down, left, right, pageUp, pageDown, home, end
    case ctrlC, ctrlL
}

/// Decodes terminal input bytes into keys: UTF-8 text, control keys and the CSI/SS3 escape
/// sequences xterm-compatible terminals send for arrows and paging keys. An ESC with nothing
/// after it in the same read is the Escape key.
public enum KeyDecoder {
    public static func decode(_ bytes: [UInt8]) -> [Key] {
        var keys: [Key] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case 3: keys.append(.ctrlC); i += 1
            case 12: keys.append(.ctrlL); i += 1
            case 9: keys.append(.tab); i += 1
            case 10, 13: keys.append(.enter); i += 1
            case 8, 127: keys.append(.backspace); i += 1
            case 27:
                if i + 1 >= bytes.count { keys.append(.esc); i += 1; continue }
                let n = bytes[i + 1]
                if n == UInt8(ascii: "[") || n == UInt8(ascii: "O") {
                    // CSI/SS3: parameters then one final byte in 0x40...0x7E.
                    var j = i + 2
                    while j < bytes.count, !(0x40...0x7E).contains(bytes[j]) { j += 1 }
                    guard j < bytes.count else { keys.append(.esc); i += 1; continue }
                    let params = String(decoding: bytes[(i + 2)..<j], as: UTF8.self)
                    switch bytes[j] {
                    case UInt8(ascii: "A"): keys.append(.up)
                    case UInt8(ascii: "B"): keys.append(.down)
                    case UInt8(ascii: "C"): keys.append(.right)
                    case UInt8(ascii: "D"): keys.append(.left)
                    case UInt8(ascii: "H"): keys.append(.home)
                    case UInt8(ascii: "F"): keys.append(.end)
                    case UInt8(ascii: "Z"): keys.append(.backTab)
                    case UInt8(ascii: "~"):
                        switch params {
                        case "5": keys.append(.pageUp)
                        case "6": keys.append(.pageDown)
                        case "1", "7": keys.append(.home)
                        case "4", "8": keys.append(.end)
                        default: break
                        }
                    default: break
                    }
                    i = j + 1
                } else {
                    keys.append(.esc)  // Alt+key: treat as Escape, then the key
                    i += 1
                }
            case 0..<32:
                i += 1
            default:
                // One UTF-8 character.
                let len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                let end = min(bytes.count, i + len)
                let s = String(decoding: bytes[i..<end], as: UTF8.self)
                if let c = s.first { keys.append(.char(c)) }
                i = end
            }
        }
        return keys
    }
}
