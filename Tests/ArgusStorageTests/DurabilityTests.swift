import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Testing

@Suite struct DurabilityTests {
    func write(_ store: MetricStore, series: Int, from: Int, to: Int) throws {
        for t in from..<to {
            let app = store.appender()
            for s in 0..<series { try app.append(L("m", ("s", "\(s)")), Int64(t) * 1000, Double(t * s)) }
            try app.commit()
        }
    }

    func walSegments(_ dir: TempDir) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path + "/wal").sorted().map { dir.path + "/wal/" + $0 }
    }

    @Test func walReplayRestoresEverything() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir)
        try write(store, series: 20, from: 1, to: 50)
        let before = try dump(store)
        // No close(): as after a crash, only the WAL has the data.
        store = try openStore(dir)
        #expect(try dump(store) == before)
        #expect(store.replayStats.samples == 20 * 49)
    }

    @Test func tornWALTailIsTruncatedAndEarlierRecordsKept() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir)
        try write(store, series: 5, from: 1, to: 11)
        let before = try dump(store)
        store.close()
        let seg = try walSegments(dir).last!
        let size = try FileManager.default.attributesOfItem(atPath: seg)[.size] as! Int
        // A torn write: half a record of garbage at the end.
        let h = FileHandle(forWritingAtPath: seg)!
        h.seekToEndOfFile()
        h.write(Data([0x40, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9]))
        h.closeFile()
        store = try openStore(dir)
        #expect(try dump(store) == before)
        #expect(store.replayStats.truncatedSegments == 1)
        #expect(try FileManager.default.attributesOfItem(atPath: seg)[.size] as! Int == size)
    }

    @Test func corruptWALRecordKeepsRecordsBeforeIt() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir)
        try write(store, series: 3, from: 1, to: 5)
        let early = try dump(store)
        try write(store, series: 3, from: 5, to: 9)
        store.close()
        // Flip a byte in the last sample record: its checksum fails, earlier records stay.
        let seg = try walSegments(dir).last!
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: seg)))
        bytes[bytes.count - 3] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: seg))
        store = try openStore(dir)
        let after = try dump(store)
        for (k, v) in early { #expect(Array(after[k]!.prefix(v.count)) == v) }
        // Exactly the last commit (t = 8) is gone, and nothing wrong was returned.
        #expect(after.values.allSatisfy { $0.count == 7 && $0.last!.t == 7000 })
    }

    @Test func damagedBlockIsRefusedAndTheRestServed() throws {
        let dir = TempDir()
        defer { dir.remove() }
        // Retention 1 h caps compaction windows at 270 s, so these two blocks stay apart.
        var store = try openStore(dir) { $0.blockDuration = 10_000; $0.retention = 3_600_000 }
        try write(store, series: 4, from: 0, to: 10)  // window [0, 10 s)
        try store.flush()
        try write(store, series: 4, from: 1000, to: 1010)
        try store.flush()
        let metas = store.blockMetas.sorted { $0.minT < $1.minT }
        #expect(metas.count == 2)
        store.close()
        let victim = dir.path + "/blocks/" + metas[0].id + "/values"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: victim)))
        bytes[bytes.count / 2] ^= 0x77
        try Data(bytes).write(to: URL(fileURLWithPath: victim))
        store = try openStore(dir) { $0.blockDuration = 10_000; $0.retention = 3_600_000 }
        #expect(store.refusedBlocks.count == 1)
        #expect(store.refusedBlocks[0].reason.contains(victim))
        let d = try dump(store)
        #expect(d.count == 4)
        #expect(d.values.allSatisfy { $0.map(\.t) == (1000..<1010).map { Int64($0) * 1000 } })
    }

    @Test func flushCompactionAndRestart() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir) { $0.blockDuration = 10_000 }
        for w in 0..<10 {
            try write(store, series: 10, from: w * 10, to: w * 10 + 10)
            try store.flush()
            // A window is merged once complete: [0, 30 s) when the block at 30 s arrives.
            if w == 2 { #expect(store.blockMetas.count == 3) }
            if w == 3 { #expect(store.blockMetas.map(\.level).sorted() == [0, 1]) }
        }
        let before = try dump(store)
        #expect(before.values.allSatisfy { $0.count == 100 })
        // Compaction runs inside flush: 10 s blocks merge into 30 s windows, those into a 90 s one;
        // the newest block [90 s, 100 s) stays as cut.
        let metas = store.blockMetas.sorted { $0.minT < $1.minT }
        #expect(metas.count == 2)
        #expect(metas[0].level >= 2)
        #expect(metas[0].samples == 900)
        #expect(metas[1].level == 0 && metas[1].samples == 100)
        // A full compaction merges the window still being filled too.
        let r = try store.compact(all: true)
        #expect(r.blocksCompacted == 2)
        #expect(store.blockMetas.count == 1 && store.blockMetas[0].samples == 1000)
        #expect(try dump(store) == before)
        store.close()
        store = try openStore(dir) { $0.blockDuration = 10_000 }
        #expect(try dump(store) == before)
        // The WAL was truncated behind the cuts: nothing to replay.
        #expect(store.replayStats.samples == 0)
    }

    /// Series longer than a block chunk: range reads decode only overlapping chunks and still
    /// return exactly the samples in range, through compaction and a restart.
    @Test func longSeriesAcrossChunksAndBlocks() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir) { $0.blockDuration = 3_600_000 }
        // 2 series × 1,500 samples at 1 s: three 480-sample chunks and a bit, in one 1 h window,
        // then 1,500 more in the next window.
        try write(store, series: 2, from: 0, to: 1500)
        try store.flush()
        try write(store, series: 2, from: 3600, to: 5100)
        try store.flush()
        let all = try dump(store)
        #expect(all.values.allSatisfy { $0.count == 3000 })
        for (lo, hi) in [(0, 0), (479, 481), (950, 1450), (1400, 3700), (4000, 4000), (5099, 9999)] {
            let part = try dump(store, mint: Int64(lo) * 1000, maxt: Int64(hi) * 1000)
            for (k, v) in part {
                #expect(v == all[k]!.filter { $0.t >= Int64(lo) * 1000 && $0.t <= Int64(hi) * 1000 }, "range \(lo)-\(hi)")
            }
        }
        store.close()
        store = try openStore(dir) { $0.blockDuration = 3_600_000 }
        try store.compact()
        #expect(try dump(store) == all)
        #expect(try dump(store, mint: 1_000_000, maxt: 1_100_000).values.allSatisfy { $0.count == 101 })
    }

    @Test func debrisFromInterruptedWritesIsRemoved() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir) { $0.blockDuration = 10_000 }
        try write(store, series: 3, from: 0, to: 10)
        try store.flush()
        let before = try dump(store)
        let kept = store.blockMetas.map(\.id)
        store.close()
        // A compaction that crashed after writing its block but before the catalog transaction,
        // and a flush that crashed mid-write.
        let orphan = dir.path + "/blocks/" + kept[0] + "-orphan"
        try FileManager.default.copyItem(atPath: dir.path + "/blocks/" + kept[0], toPath: orphan)
        try FileManager.default.createDirectory(atPath: dir.path + "/blocks/xyz.tmp", withIntermediateDirectories: true)
        store = try openStore(dir) { $0.blockDuration = 10_000 }
        #expect(try dump(store) == before)  // not doubled
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/blocks/xyz.tmp"))
        #expect(store.blockMetas.map(\.id) == kept)
    }

    @Test func crashBetweenBlockCommitAndWALTruncation() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir)
        try write(store, series: 3, from: 1, to: 10)
        let walBefore = try walSegments(dir).map { ($0, try Data(contentsOf: URL(fileURLWithPath: $0))) }
        try store.flush()
        let before = try dump(store)
        store.close()
        // Put the old segments back, as if the process died before deleting them.
        for (p, d) in walBefore { try d.write(to: URL(fileURLWithPath: p)) }
        store = try openStore(dir)
        #expect(try dump(store) == before)
        #expect(store.replayStats.samples == 0)
    }

    /// Extra head cuts inside one block-duration window (memory pressure, explicit flushes) do
    /// not leave small blocks behind: they merge at once, even in the newest window.
    @Test func blocksOfOneHeadCutWindowMergeAtOnce() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir) { $0.blockDuration = 10_000 }
        defer { store.close() }
        for part in 0..<3 {
            try write(store, series: 2, from: part * 3, to: part * 3 + 3)
            try store.flush()
            #expect(store.blockMetas.count == 1)
        }
        #expect(store.blockMetas[0].samples == 18 && store.blockMetas[0].level >= 1)
        #expect(try dump(store).values.allSatisfy { $0.count == 9 })
    }

    @Test func retentionByAgeAndSize() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir) { $0.blockDuration = 10_000; $0.retention = 15_000 }
        for w in 0..<5 {
            try write(store, series: 2, from: w * 10, to: w * 10 + 10)
            try store.flush()
        }
        // Blocks are [0, 30 s) (merged once complete), [30 s, 40 s) and [40 s, 50 s) (their window
        // is still being filled); the newest sample is at 49 s, so the first block (ending at
        // 29 s < 34 s) is dropped whole.
        #expect(store.blockMetas.count == 2)
        let left = try dump(store)
        #expect(left.values.allSatisfy { $0.first!.t == 30_000 && $0.count == 20 })
        store.close()
        store = try openStore(dir) { $0.blockDuration = 10_000; $0.retentionSize = 1 }
        try store.compact()
        #expect(store.blockMetas.count <= 1)
    }
}
