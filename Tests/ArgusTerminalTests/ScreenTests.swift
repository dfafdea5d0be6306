import Foundation
@testable import ArgusTerminal
import Testing

@Suite struct DisplayWidthTests {
    @Test func widthsOfNarrowWideAndCombiningCharacters() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("日本語") == 6)
        #expect(DisplayWidth.of("한국") == 4)
        #expect(DisplayWidth.of("e\u{301}") == 1)          // e + combining acute: one cell
        #expect(DisplayWidth.of("🚀") == 2)
        #expect(DisplayWidth.of("❤\u{FE0F}") == 2)          // text symbol turned emoji
        #expect(DisplayWidth.of("👩\u{200D}💻") == 2)        // ZWJ sequence is one cluster
        #expect(DisplayWidth.of("a\u{200B}b") == 2)         // zero-width space
        #expect(DisplayWidth.of("ｱ") == 1)                  // halfwidth katakana
        #expect(DisplayWidth.of("Ａ") == 2)                 // fullwidth A
    }

    @Test func truncationAndPaddingCountCells() {
        #expect(DisplayWidth.truncate("日本語テキスト", to: 7) == "日本語…")
        #expect(DisplayWidth.of(DisplayWidth.truncate("日本語テキスト", to: 7)) == 7)
        #expect(DisplayWidth.pad("日本", to: 6) == "日本  ")
        #expect(DisplayWidth.padLeft("ab", to: 4) == "  ab")
        #expect(DisplayWidth.truncate("short", to: 10) == "short")
    }
}

@Suite struct ScreenTests {
    @Test func wideCharactersTakeTwoCellsAndClipAtTheEdge() {
        var s = Screen(width: 5, height: 1)
        let used = s.put(0, 0, "a日b")
        #expect(used == 4)
        #expect(s[1, 0].text == "日")
        #expect(s[2, 0].isContinuation)
        #expect(s.line(0) == "a日b ")
        // A wide character that does not fit at the edge becomes a space.
        var t = Screen(width: 3, height: 1)
        t.put(0, 0, "ab日")
        #expect(t.line(0) == "ab ")
    }

    @Test func combiningMarksJoinTheirCell() {
        var s = Screen(width: 4, height: 1)
        s.put(0, 0, "e\u{301}x")
        #expect(s[0, 0].text == "e\u{301}")
        #expect(s[1, 0].text == "x")
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var s = Screen(width: 4, height: 1)
        s.put(0, 0, "日本")
        s.put(1, 0, "x")  // over the continuation of 日
        #expect(s.line(0) == " x本")
        s.put(2, 0, "y")  // over the head of 本
        #expect(s.line(0) == " xy ")
    }

    @Test func boxAndFind() {
        var s = Screen(width: 10, height: 3)
        s.box(Rect(x: 0, y: 0, width: 10, height: 3), title: "T")
        #expect(s.text == "╭ T ─────╮\n│        │\n╰────────╯")
        let f = s.find("T")
        #expect(f?.x == 2 && f?.y == 0)
    }
}

@Suite struct DiffWriterTests {
    @Test func firstFrameClearsAndDrawsOnlyNonBlankCells() {
        var s = Screen(width: 4, height: 2)
        s.put(1, 1, "hi")
        var w = DiffWriter(mode: .none)
        let bytes = String(decoding: w.frame(s), as: UTF8.self)
        #expect(bytes == "\u{1B}[0m\u{1B}[2J\u{1B}[2;2Hhi")
    }

    @Test func unchangedFrameWritesNothingAndOneCellWritesOneCell() {
        var s = Screen(width: 10, height: 3)
        s.put(0, 0, "hello")
        var w = DiffWriter(mode: .ansi256)
        _ = w.frame(s)
        #expect(w.frame(s).isEmpty)
        s.put(4, 0, "!", Style(fg: .red, attrs: Style.bold))
        #expect(String(decoding: w.frame(s), as: UTF8.self) == "\u{1B}[1;5H\u{1B}[0;1;31m!\u{1B}[0m")
        // Adjacent changes share one cursor move and one colour change.
        s.put(1, 2, "ab", Style(fg: .indexed(200)))
        #expect(String(decoding: w.frame(s), as: UTF8.self) == "\u{1B}[3;2H\u{1B}[0;38;5;200mab\u{1B}[0m")
    }

    @Test func colourModes() {
        let style = Style(fg: .rgb(0xF2, 0x49, 0x5C), bg: .indexed(236))
        #expect(DiffWriter(mode: .truecolor).sgr(style) == "\u{1B}[0;38;2;242;73;92;48;5;236m")
        #expect(DiffWriter(mode: .ansi256).sgr(style) == "\u{1B}[0;38;5;203;48;5;236m")
        #expect(DiffWriter(mode: .none).sgr(style.adding(Style.reverse)) == "\u{1B}[0;7m")
        #expect(Color.rgb(0, 0, 0).indexed256 == 16)
        #expect(Color.rgb(255, 255, 255).indexed256 == 231)
        #expect(Color.rgb(128, 128, 128).indexed256 == 244)
    }

    @Test func noColorAndColorTermAreRespected() {
        #expect(ColorMode.detect(environment: ["NO_COLOR": "1", "COLORTERM": "truecolor"]) == .none)
        #expect(ColorMode.detect(environment: ["COLORTERM": "truecolor"]) == .truecolor)
        #expect(ColorMode.detect(environment: ["TERM": "xterm-256color"]) == .ansi256)
        #expect(ColorMode.detect(environment: ["TERM": "dumb"]) == .none)
    }

    @Test func wideCharacterChangesRewriteTheWholeCharacter() {
        var s = Screen(width: 6, height: 1)
        s.put(0, 0, "日本")
        var w = DiffWriter(mode: .none)
        _ = w.frame(s)
        s.put(2, 0, "語")
        #expect(String(decoding: w.frame(s), as: UTF8.self) == "\u{1B}[1;3H語")
        s.put(2, 0, "ab")
        #expect(String(decoding: w.frame(s), as: UTF8.self) == "\u{1B}[1;3Hab")
    }

    @Test func sizeChangeRedrawsEverything() {
        var w = DiffWriter(mode: .none)
        var a = Screen(width: 3, height: 1)
        a.put(0, 0, "abc")
        _ = w.frame(a)
        var b = Screen(width: 4, height: 1)
        b.put(0, 0, "abc")
        #expect(String(decoding: w.frame(b), as: UTF8.self) == "\u{1B}[0m\u{1B}[2J\u{1B}[1;1Habc")
    }
}

@Suite struct CanvasTests {
    @Test func brailleDotsMapToTheirBits() {
        var c = Canvas(cols: 2, rows: 1, charset: .braille)
        c.set(0, 0, .red)   // dot 1
        c.set(1, 3, .red)   // dot 8
        c.set(2, 1, .blue)  // second cell, dot 2
        var s = Screen(width: 2, height: 1)
        c.draw(on: &s, x: 0, y: 0)
        #expect(s[0, 0].text == "\u{2881}")
        #expect(s[1, 0].text == "\u{2802}")
        #expect(s[1, 0].style.fg == .blue)
    }

    @Test func blockAndAsciiFallbacks() {
        var b = Canvas(cols: 1, rows: 1, charset: .block)
        b.set(0, 0, .default)
        b.set(1, 1, .default)
        var s = Screen(width: 1, height: 1)
        b.draw(on: &s, x: 0, y: 0)
        #expect(s[0, 0].text == "▚")
        var a = Canvas(cols: 3, rows: 1, charset: .ascii)
        a.line(0, 0, 2, 2, .default)
        var t = Screen(width: 3, height: 1)
        a.draw(on: &t, x: 0, y: 0)
        #expect(t.line(0) == "'-.")
    }

    @Test func linesConnectPoints() {
        var c = Canvas(cols: 4, rows: 1, charset: .braille)
        c.line(0, 3, 7, 0, .green)
        var s = Screen(width: 4, height: 1)
        c.draw(on: &s, x: 0, y: 0)
        #expect((0..<4).allSatisfy { !s[$0, 0].text.trimmingCharacters(in: .whitespaces).isEmpty })
    }
}

@Suite struct KeyDecoderTests {
    @Test func decodesControlKeysEscapesAndText() {
        #expect(KeyDecoder.decode(Array("q".utf8)) == [.char("q")])
        #expect(KeyDecoder.decode([27]) == [.esc])
        #expect(KeyDecoder.decode([9, 13, 3, 127]) == [.tab, .enter, .ctrlC, .backspace])
        #expect(KeyDecoder.decode(Array("\u{1B}[Z\u{1B}[A\u{1B}[B\u{1B}OC\u{1B}[D".utf8)) == [.backTab, .up, .down, .right, .left])
        #expect(KeyDecoder.decode(Array("\u{1B}[5~\u{1B}[6~\u{1B}[H\u{1B}[F".utf8)) == [.pageUp, .pageDown, .home, .end])
        #expect(KeyDecoder.decode(Array("é日+".utf8)) == [.char("é"), .char("日"), .char("+")])
        #expect(KeyDecoder.decode(Array("\u{1B}x".utf8)) == [.esc, .char("x")])
        #expect(KeyDecoder.decode(Array("\u{1B}[".utf8)) == [.esc, .char("[")])
    }
}
