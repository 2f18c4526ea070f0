import Foundation
import Ingest
import Testing

/// `RTFText`: Rich Text Format to the text a reader sees, on small documents written for these
/// tests in the shapes WordPad, TextEdit and Word give, and on damaged ones.
@Suite struct RTFTextTests {
    static func text(_ rtf: String) -> String { RTFText.text(Data(rtf.utf8)) }

    /// WordPad's shape: font and colour tables, a `\*\generator`, formatting words, `\'hh`
    /// bytes in code page 1252 (0x97 is an em dash there, a C1 control in Latin-1).
    @Test func aWordPadDocumentBecomesItsText() {
        let rtf = #"""
        {\rtf1\ansi\ansicpg1252\deff0\nouicompat\deflang1033{\fonttbl{\f0\fnil\fcharset0 Calibri;}}
        {\colortbl ;\red255\green0\blue0;}
        {\*\generator Riched20 10.0.19041}\viewkind4\uc1 
        \pard\sa200\sl276\slmult1\f0\fs22\lang9 Caf\'e9 \b bold\b0  text\par
        Second \cf1 line\cf0\'97dash\tab end\par
        }
        """#
        #expect(Self.text(rtf) == "Café bold text\nSecond line\u{2014}dash\tend\n")
    }

    /// TextEdit's shape: `\uc0` before `\uN` (no fallback characters), a surrogate pair, a
    /// backslash before a line end as a paragraph, `\*\expandedcolortbl` dropped.
    @Test func aTextEditDocumentBecomesItsText() {
        let rtf = #"""
        {\rtf1\ansi\ansicpg1252\cocoartf2709
        \cocoatextscaling0\cocoaplatform0{\fonttbl\f0\fswiss\fcharset0 Helvetica;}
        {\colortbl;\red255\green255\blue255;}
        {\*\expandedcolortbl;;}
        \paperw11900\paperh16840\margl1440\margr1440\vieww11520\viewh8400\viewkind0
        \pard\tx566\tx1133\pardirnatural\partightenfactor0

        \f0\fs24 \cf0 Hello \'93world\'94 \uc0\u8364  and emoji \uc0\u55357 \u56832 \
        New line.}
        """#
        #expect(Self.text(rtf) == "Hello \u{201C}world\u{201D} \u{20AC} and emoji \u{1F600}\nNew line.")
    }

    /// `\uN` skips the `\ucN` fallback characters after it (1 by default), a `\'hh` counting as
    /// one; negative N are UTF-16 units above 0x7FFF; `\ucN` is scoped to its group.
    @Test func unicodeCharactersSkipTheirFallbacks() {
        #expect(Self.text(#"{\rtf1 na\u239?ve \u8217's}"#) == "na\u{EF}ve \u{2019}s")
        #expect(Self.text(#"{\rtf1\uc2 \u20013\'d6\'d0x}"#) == "\u{4E2D}x")
        #expect(Self.text(#"{\rtf1 {\uc2 \u-3913??}\u-3913?y}"#) == "\u{F0B7}\u{F0B7}y")
        // A lone surrogate is dropped, not turned into an invalid scalar.
        #expect(Self.text(#"{\rtf1 a\u55357?b\u56832?c}"#) == "abc")
    }

    /// A field's instructions are dropped and its result kept; pictures, objects, document
    /// info, headers, footers and unknown `\*` destinations are dropped (an object's `\result`
    /// is kept); `\bin N` skips N raw bytes, braces among them.
    @Test func destinationsWithoutReadingTextAreDropped() {
        let rtf = #"""
        {\rtf1{\info{\title Secret title}{\author Someone}}{\header Page header}{\footer Page footer}
        See {\field{\*\fldinst{HYPERLINK "https://example.com"}}{\fldrslt{\ul the site}}} now.
        {\*\unknowndest hidden words}{\pict\pngblip\picw10 89504e470d0a1a0a}
        {\object\objemb{\*\objclass Excel}{\*\objdata 0105000002}{\result shown result}}
        before{\pict\bin4 {{{{}after}
        """#
        #expect(Self.text(rtf) == "See the site now.shown resultbeforeafter")
    }

    /// Control symbols: escaped braces and backslash, non-breaking space and hyphen, optional
    /// hyphen; named punctuation.
    @Test func controlSymbolsAndNamedPunctuation() {
        #expect(Self.text(#"{\rtf1 a\\b \{c\} d\~e f\_g hy\-phen}"#) == #"a\b {c} d e f-g hyphen"#)
        #expect(Self.text(#"{\rtf1 \lquote x\rquote  \ldblquote y\rdblquote  a\emdash b\endash c \bullet  d\line e\page f}"#)
                == "\u{2018}x\u{2019} \u{201C}y\u{201D} a\u{2014}b\u{2013}c \u{2022} d\ne\nf")
        // A table: cells end in tabs, rows in new lines.
        #expect(Self.text(#"{\rtf1\trowd\cellx1000\cellx2000 one\cell two\cell\row}"#) == "one\ttwo\t\n")
    }

    /// `\ansicpg` chooses the code page of `\'hh` bytes, consecutive bytes decoded together
    /// (double-byte code pages); `\mac` is Mac Roman (0x8E: é).
    @Test func codePagesDecodeHexBytes() {
        #expect(Self.text(#"{\rtf1\ansi\ansicpg1251 \'cf\'f0\'e8\'e2\'e5\'f2}"#) == "Привет")
        #expect(Self.text(#"{\rtf1\ansi\ansicpg932 \'93\'fa\'96\'7b}"#) == "日本")
        #expect(Self.text(#"{\rtf1\ansi\ansicpg936 \'c4\'e3\'ba\'c3}"#) == "你好")
        #expect(Self.text(#"{\rtf1\ansi\ansicpg1255 \'e0\'e1}"#) == "אב")
        #expect(Self.text(#"{\rtf1\mac caf\'8e}"#) == "café")
        // An unknown code page reads as 1252; a byte it leaves unmapped as U+FFFD.
        #expect(Self.text(#"{\rtf1\ansi\ansicpg99999 \'e9}"#) == "é")
        #expect(Self.text(#"{\rtf1\ansi\ansicpg932 a\'93b}"#) == "a\u{FFFD}b")
    }

    /// A font whose `\fcharset` names another script decodes its `\'hh` bytes in that script's
    /// code page: a font chosen in a group until the group ends, `\plain` back to the default
    /// font, `\deffN` the default; ANSI fonts (0) and fonts of no character set read in the
    /// document's code page. The mixed document read as LibreOffice 7.4 reads it (`soffice
    /// --convert-to txt` gave the same line).
    @Test func fontCharacterSetsChooseTheCodePage() {
        let table = #"{\fonttbl{\f0\fswiss\fcharset0 Arial;}{\f1\froman\fcharset204 Times New Roman CYR;}{\f2\fcharset161 Arial Greek;}{\f3\fcharset238 Arial CE;}}"#
        #expect(Self.text(#"{\rtf1\ansi\ansicpg1252\deff0"# + table + #"{\stylesheet{\s0\f1 Normal;}}\pard\plain caf\'e9 {\f1 \'cf\'f0\'e8\'e2\'e5\'f2} na\'efve \f2 \'e1\'e5\'e3\plain  \f3 \'9e\'e1ba \plain\'e9t\'e9\par}"#)
                == "café Привет naïve αεγ žába été\n")
        // The default font's character set applies until another font is chosen.
        #expect(Self.text(#"{\rtf1\ansi\deff1"# + table + #"\'cf\'f0\f0 \'e9}"#) == "Прé")
        // An ANSI font in a 1251 document reads as the document says; so does an undefined font.
        #expect(Self.text(#"{\rtf1\ansi\ansicpg1251\deff0"# + table + #"\'cf\f9 \'f0}"#) == "Пр")
        // A Japanese font (128) in a Western document: double-byte.
        #expect(Self.text(#"{\rtf1\ansi{\fonttbl{\f5\fcharset128 MS Mincho;}}\f5 \'93\'fa\'96\'7b}"#) == "日本")
    }

    /// Damaged input gives text, never a trap: cut files, unbalanced braces, deep nesting,
    /// huge and negative numbers, overlong words, a trailing backslash, bad hex.
    @Test func damagedDocumentsGiveTextAndNeverTrap() {
        #expect(Self.text(#"{\rtf1 abc {\b def"#) == "abc def")
        #expect(Self.text(#"{\rtf1 a}}}} b{{"#) == "a b")
        #expect(Self.text(#"{\rtf1 "# + String(repeating: "{", count: 100_000) + "deep" + String(repeating: "}", count: 100_000) + "}") == "deep")
        #expect(Self.text(#"{\rtf1 \u99999999999999999999? x\bin-5 y\uc99999999999 z}"#) == "\u{E3FF} xyz")
        #expect(Self.text(#"{\rtf1 a\bin99999999999999999999 never read}"#) == "a")
        #expect(Self.text(#"{\rtf1 "# + "\\" + String(repeating: "x", count: 1000) + " kept}") == "kept")
        #expect(Self.text(#"{\rtf1 end\"#) == "end")
        #expect(Self.text(#"{\rtf1 bad\'zz hex\'4}"#) == "badzz hex4")
    }

    @Test func rtfIsToldByItsFirstBytes() {
        #expect(RTFText.isRTF(Data(#"{\rtf1\ansi x}"#.utf8)))
        #expect(RTFText.isRTF(Data([0xEF, 0xBB, 0xBF] + Array("\r\n {\\rtf1}".utf8))))
        #expect(!RTFText.isRTF(Data(#"{\rt"#.utf8)))
        #expect(!RTFText.isRTF(Data("plain text about {\\rtf1".utf8)))
        #expect(!RTFText.isRTF(Data()))
    }
}
