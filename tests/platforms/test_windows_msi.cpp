// The Windows installer source (installer/windows/Penser.wxs, configured by CMake) built into a real .msi by
// installer/windows/make-msi.cmake with msitools' wixl, around placeholder files where windeployqt's output
// would be; msiinfo and msiextract then read the database back. What Windows Installer would do with it is
// not run here (docs/packaging-windows-macos.md).
#include "../test_support.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
  int code = -1;
  QString out;
};

Run run(const QString& program, const QStringList& args) {
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(program, args);
  if (!p.waitForFinished(60000)) return {-1, QStringLiteral("did not finish: ") + p.errorString()};
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAll())};
}

bool write_file(const QString& path, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(path).path());
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// One table of the MSI as rows of tab-separated columns (msiinfo export: names, types, table key, then rows).
QList<QStringList> table(const QString& msi, const QString& name) {
  const Run r = run(QStringLiteral("msiinfo"), {QStringLiteral("export"), msi, name});
  QList<QStringList> rows;
  if (r.code != 0) return rows;
  const QStringList lines = QString(r.out).remove(QLatin1Char('\r')).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
  for (qsizetype i = 3; i < lines.size(); ++i) rows << lines[i].split(QLatin1Char('\t'));
  return rows;
}

const QStringList* find_row(const QList<QStringList>& rows, int column, const QString& value) {
  for (const QStringList& row : rows)
    if (row.value(column) == value) return &row;
  return nullptr;
}

QString msi_property(const QString& msi, const QString& name) {
  const QList<QStringList> rows = table(msi, QStringLiteral("Property"));
  const QStringList* row = find_row(rows, 0, name);
  return row ? row->value(1) : QString();
}

}  // namespace

class TestWindowsMsi : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString stage_;
  // The placeholders stand for windeployqt's output: the exe, a Qt DLL, a QML module in a subfolder.
  const QByteArray exe_bytes_ = QByteArray("MZ placeholder for penser.exe\n").repeated(100);

  Run make_msi(const QString& output, bool gguf) {
    return run(QStringLiteral(PENSER_CMAKE_COMMAND),
               {QStringLiteral("-DSTAGE_DIR=") + stage_, QStringLiteral("-DWXS=" PENSER_WXS_FILE),
                QStringLiteral("-DICON=" PENSER_SOURCE_DIR "/resources/icons/penser.ico"),
                QStringLiteral("-DOUTPUT=") + output, QStringLiteral("-DTOOLSET=wixl"),
                QStringLiteral("-DGGUF_ASSOCIATION=") + (gguf ? QLatin1Char('1') : QLatin1Char('0')),
                QStringLiteral("-DWORK_DIR=") + output + QStringLiteral(".work"), QStringLiteral("-P"),
                QStringLiteral(PENSER_SOURCE_DIR "/installer/windows/make-msi.cmake")});
  }

 private slots:
  void initTestCase() {
    for (const char* tool : {"wixl", "wixl-heat", "msiinfo", "msiextract"})
      if (QStandardPaths::findExecutable(QLatin1String(tool)).isEmpty())
        PENSER_SKIP_UNLESS_CI("wixl and msitools are needed to build and read the .msi");
    QVERIFY(dir_.isValid());
    stage_ = dir_.filePath(QStringLiteral("stage"));
    QVERIFY(write_file(stage_ + QStringLiteral("/penser.exe"), exe_bytes_));
    QVERIFY(write_file(stage_ + QStringLiteral("/Qt6Core.dll"), "placeholder Qt6Core.dll"));
    QVERIFY(write_file(stage_ + QStringLiteral("/qml/QtQuick/qmldir"), "module QtQuick\n"));
  }

  void missing_exe_is_a_clear_error() {
    QTemporaryDir empty;
    const Run r = run(QStringLiteral(PENSER_CMAKE_COMMAND),
                      {QStringLiteral("-DSTAGE_DIR=") + empty.path(), QStringLiteral("-DWXS=" PENSER_WXS_FILE),
                       QStringLiteral("-DICON=x.ico"), QStringLiteral("-DOUTPUT=") + empty.filePath("x.msi"),
                       QStringLiteral("-P"), QStringLiteral(PENSER_SOURCE_DIR "/installer/windows/make-msi.cmake")});
    QVERIFY(r.code != 0);
    QVERIFY2(r.out.contains(QStringLiteral("penser.exe is missing")), qPrintable(r.out));
  }

  void per_user_msi_with_shortcut_uninstall_entry_and_files() {
    const QString msi = dir_.filePath(QStringLiteral("Penser.msi"));
    const Run built = make_msi(msi, false);
    QVERIFY2(built.code == 0, qPrintable(built.out));

    // Product: this version, the fixed upgrade code, and a MajorUpgrade (Upgrade rows that detect older and
    // newer versions under that code).
    QCOMPARE(msi_property(msi, QStringLiteral("ProductVersion")), QStringLiteral(PENSER_PROJECT_VERSION));
    QCOMPARE(msi_property(msi, QStringLiteral("ProductName")), QStringLiteral("Penser"));
    const QString upgrade = QStringLiteral("{" PENSER_WIX_UPGRADE_CODE "}");
    QCOMPARE(msi_property(msi, QStringLiteral("UpgradeCode")), upgrade);
    const QList<QStringList> upgrades = table(msi, QStringLiteral("Upgrade"));
    QVERIFY(find_row(upgrades, 6, QStringLiteral("WIX_UPGRADE_DETECTED")));
    QVERIFY(find_row(upgrades, 6, QStringLiteral("WIX_DOWNGRADE_DETECTED")));
    QCOMPARE(upgrades.first().value(0), upgrade);

    // Per user: no ALLUSERS, and the summary's word count says no elevation (bit 8) besides compression (2).
    QVERIFY(msi_property(msi, QStringLiteral("ALLUSERS")).isEmpty());
    const Run suminfo = run(QStringLiteral("msiinfo"), {QStringLiteral("suminfo"), msi});
    QVERIFY2(suminfo.out.contains(QStringLiteral("Source: 10 ")), qPrintable(suminfo.out));

    // Installed to %LOCALAPPDATA%\Programs\Penser.
    const QList<QStringList> dirs = table(msi, QStringLiteral("Directory"));
    const QStringList* install = find_row(dirs, 0, QStringLiteral("INSTALLFOLDER"));
    QVERIFY(install);
    QCOMPARE(install->value(2), QStringLiteral("Penser"));
    const QStringList* programs = find_row(dirs, 0, install->value(1));
    QVERIFY(programs);
    QCOMPARE(programs->value(2), QStringLiteral("Programs"));
    QCOMPARE(programs->value(1), QStringLiteral("LocalAppDataFolder"));

    // The Start-menu shortcut runs the installed exe, with the icon.
    const QList<QStringList> shortcuts = table(msi, QStringLiteral("Shortcut"));
    QCOMPARE(shortcuts.size(), 1);
    QCOMPARE(shortcuts[0].value(1), QStringLiteral("ProgramMenuFolder"));
    QCOMPARE(shortcuts[0].value(2), QStringLiteral("Penser"));
    QCOMPARE(shortcuts[0].value(4), QStringLiteral("[INSTALLFOLDER]penser.exe"));
    QCOMPARE(shortcuts[0].value(8), QStringLiteral("PenserIcon.ico"));

    // The uninstall entry's icon and text; the icon is the real penser.ico.
    QCOMPARE(msi_property(msi, QStringLiteral("ARPPRODUCTICON")), QStringLiteral("PenserIcon.ico"));
    QVERIFY(!msi_property(msi, QStringLiteral("ARPCOMMENTS")).isEmpty());
    QVERIFY(find_row(table(msi, QStringLiteral("Icon")), 0, QStringLiteral("PenserIcon.ico")));

    // Per-user components keep their key path in HKCU (root 1); nothing is written to HKLM (root 2).
    const QList<QStringList> registry = table(msi, QStringLiteral("Registry"));
    QVERIFY(!registry.isEmpty());
    for (const QStringList& row : registry) QCOMPARE(row.value(1), QStringLiteral("1"));
    QVERIFY(find_row(registry, 3, QStringLiteral("InstallFolder")));
    QVERIFY(!find_row(registry, 2, QStringLiteral("Software\\Classes\\Penser.gguf")));

    // Every staged file is in the File table, in the right folder, and its bytes are in the cabinet.
    const QList<QStringList> files = table(msi, QStringLiteral("File"));
    QCOMPARE(files.size(), 3);
    for (const char* name : {"penser.exe", "Qt6Core.dll", "qmldir"})
      QVERIFY2(find_row(files, 2, QLatin1String(name)), name);
    const QString out = dir_.filePath(QStringLiteral("extracted"));
    QDir().mkpath(out);
    const Run extracted = run(QStringLiteral("msiextract"), {QStringLiteral("-C"), out, msi});
    QVERIFY2(extracted.code == 0, qPrintable(extracted.out));
    QString exe, qmldir;
    for (QDirIterator it(out, QDir::Files, QDirIterator::Subdirectories); it.hasNext();) {
      const QString path = it.next();
      if (path.endsWith(QStringLiteral("/penser.exe"))) exe = path;
      if (path.endsWith(QStringLiteral("/qml/QtQuick/qmldir"))) qmldir = path;
    }
    QVERIFY2(exe.contains(QStringLiteral("/Programs/Penser/")), qPrintable(exe));
    QVERIFY2(!qmldir.isEmpty(), "qml/QtQuick/qmldir lost its folder");
    QFile f(exe);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), exe_bytes_);
  }

  void gguf_association_is_optional() {
    const QString msi = dir_.filePath(QStringLiteral("PenserGguf.msi"));
    const Run built = make_msi(msi, true);
    QVERIFY2(built.code == 0, qPrintable(built.out));
    const QList<QStringList> registry = table(msi, QStringLiteral("Registry"));
    const QStringList* open = find_row(registry, 2, QStringLiteral("Software\\Classes\\Penser.gguf\\shell\\open\\command"));
    QVERIFY(open);
    QCOMPARE(open->value(4), QStringLiteral("\"[INSTALLFOLDER]penser.exe\" \"%1\""));
    QVERIFY(find_row(registry, 2, QStringLiteral("Software\\Classes\\.gguf\\OpenWithProgids")));
    QVERIFY(find_row(table(msi, QStringLiteral("Feature")), 0, QStringLiteral("GgufFiles")));
  }
};

QTEST_GUILESS_MAIN(TestWindowsMsi)
#include "test_windows_msi.moc"
