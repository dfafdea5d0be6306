import Foundation

/// The package root (Tests/ArgusTerminalTests/… → root), for dashboards/ and golden files.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
