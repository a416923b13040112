import Testing
@testable import AmtswegWeb

/// The urlencoded form parser (a hand-written byte parser: Foundation's percent decoding was the slowest part of a page POST).
@Suite("Form body parsing")
struct FormDataTests {
    @Test("plus, percent escapes and UTF-8 are decoded; the last of repeated names wins")
    func decodes() {
        let form = FormData.parseURLEncoded("name=Erika+M%C3%BCller&city=Mei%C3%9Fen&empty=&flag&x=1&x=2&a%5B1%5D=%2B%26%3D")
        #expect(form.values == ["name": "Erika Müller", "city": "Meißen", "empty": "", "flag": "", "x": "2", "a[1]": "+&="])
    }

    @Test("broken escapes and invalid UTF-8 drop the name or empty the value, never crash")
    func broken() {
        #expect(FormData.parseURLEncoded("a=%ZZ&%G1=2&b=%C3&c=%4&d=ok&=v&&").values == ["a": "", "b": "", "c": "", "d": "ok", "": "v"])
        #expect(FormData.parseURLEncoded("").values.isEmpty)
        #expect(FormData.parseURLEncoded("%").values.isEmpty)
        #expect(FormData.parseURLEncoded("k=%").values == ["k": ""])
    }
}
