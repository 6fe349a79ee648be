import QtQuick
import QtTest
import Penser

TestCase {
    id: testCase
    name: "CodeBlock"
    when: windowShown
    visible: true
    width: 500
    height: 400

    Component {
        id: codeComponent
        CodeBlock {
            width: 300
        }
    }
    Component {
        id: pasteTarget
        TextEdit {}
    }

    SignalSpy {
        id: copiedSpy
        signalName: "copied"
    }

    function make(properties) {
        const block = createTemporaryObject(codeComponent, testCase, properties)
        verify(block)
        copiedSpy.clear()
        copiedSpy.target = block
        return block
    }

    function test_languageLabelAndMonospace() {
        const block = make({ code: "int main() {}", language: "cpp" })
        compare(findChild(block, "codeLanguage").text, "cpp")
        const text = findChild(block, "codeText")
        compare(text.text, "int main() {}")
        // Monospace: an "i" is as wide as an "m".
        const metrics = Qt.createQmlObject("import QtQuick; FontMetrics {}", testCase)
        metrics.font = text.font
        compare(metrics.advanceWidth("iiii"), metrics.advanceWidth("mmmm"))
        metrics.destroy()
        compare(block.Accessible.name, "Code block, cpp")
    }

    function test_noLanguage() {
        const block = make({ code: "x", language: "" })
        compare(findChild(block, "codeLanguage").text, "code")
    }

    function test_copyButtonPutsTheCodeOnTheClipboard() {
        const code = "def f(x):\n    return x * 2\n"
        const block = make({ code: code, language: "python" })
        const button = findChild(block, "codeCopyButton")
        compare(button.text, "Copy")
        mouseClick(button)
        compare(copiedSpy.count, 1)
        compare(copiedSpy.signalArguments[0][0], code)
        compare(button.text, "Copied")
        const target = createTemporaryObject(pasteTarget, testCase)
        target.paste()
        compare(target.text, code)
        tryCompare(button, "text", "Copy", 3000)
    }

    function test_longLinesScrollSideways() {
        const longLine = "x = [" + Array(80).fill("12345").join(", ") + "]"
        const block = make({ code: longLine + "\ny = 1", language: "python" })
        const scroller = findChild(block, "codeScroller")
        const text = findChild(block, "codeText")
        // Not wrapped: two lines high, wider than the block.
        verify(scroller.contentWidth > scroller.width)
        verify(scroller.interactive)
        compare(text.lineCount, 2)
        scroller.contentX = 200
        compare(scroller.contentX, 200)
        const brief = make({ code: "y = 1", language: "python" })
        verify(!findChild(brief, "codeScroller").interactive)
    }

    function test_codeIsSelectable() {
        const block = make({ code: "abc def", language: "" })
        const text = findChild(block, "codeText")
        verify(text.selectByMouse)
        verify(text.readOnly)
        text.selectAll()
        compare(text.selectedText, "abc def")
    }
}
