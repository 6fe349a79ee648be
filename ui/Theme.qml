// Colours, fonts and spacing for every component. Light and dark palettes follow Settings.darkMode (the
// effective theme: the user's choice, or the system palette when the theme is "system"). Sizes are logical
// pixels, which Qt scales by the screen's device pixel ratio, so the window is sharp on HiDPI screens; icons
// are text glyphs for the same reason (no bitmap to blur).
pragma Singleton
import QtQuick
import Penser.Gui

QtObject {
    readonly property bool dark: Settings.darkMode

    // Surfaces, back to front.
    readonly property color background: dark ? "#1e1f22" : "#ffffff"
    readonly property color surface: dark ? "#26282c" : "#f6f7f9"        // cards, dialogs
    readonly property color sidebar: dark ? "#18191c" : "#eef0f3"
    readonly property color inputBackground: dark ? "#2c2e33" : "#ffffff"
    readonly property color codeBackground: dark ? "#15161a" : "#f1f3f5"
    readonly property color userBubble: dark ? "#2f3b4f" : "#e7eefb"
    readonly property color hover: dark ? "#31343a" : "#e3e6ea"
    readonly property color selection: dark ? "#3a4a66" : "#d3e1fa"
    readonly property color border: dark ? "#3a3d43" : "#d5d9de"

    // Text and accents (each text colour keeps a contrast of at least 4.5:1 on its usual surface).
    readonly property color text: dark ? "#e6e7e9" : "#1d2025"
    readonly property color mutedText: dark ? "#a0a4ab" : "#5c6470"
    readonly property color accent: dark ? "#7aa7ff" : "#2a62d4"
    readonly property color accentText: dark ? "#10151f" : "#ffffff"     // on an accent fill
    readonly property color error: dark ? "#ff8a80" : "#b3261e"
    readonly property color warning: dark ? "#ffcc66" : "#8a5a00"
    readonly property color success: dark ? "#81c995" : "#1e7b34"

    // Fonts. The platform's UI font for prose; a monospace family for code (fontconfig's "monospace" alias
    // on Linux resolves to DejaVu Sans Mono or whatever the desktop chose).
    readonly property string uiFont: Qt.application.font.family
    readonly property string monoFont: Qt.platform.os === "windows" ? "Consolas"
                                     : Qt.platform.os === "osx" ? "Menlo" : "monospace"
    readonly property int fontSize: 14
    readonly property int smallFontSize: 12
    readonly property int codeFontSize: 13
    readonly property int titleFontSize: 17
    readonly property int headlineFontSize: 22

    // Layout unit: margins and gaps are multiples of it.
    readonly property int spacing: 8
    readonly property int radius: 6
    readonly property int sidebarWidth: 270
}
