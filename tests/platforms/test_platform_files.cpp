// The files desktops and installers read: the icons (every size, and still what penser.svg draws), the
// .desktop file and the AppStream metadata (validated by the freedesktop tools), and the project version,
// set once in CMakeLists.txt, in every place it shows.
#include "../test_support.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtEndian>
#include <QtTest>

namespace {

const QString kSource = QStringLiteral(PENSER_SOURCE_DIR);
const QString kVersion = QStringLiteral(PENSER_PROJECT_VERSION);
const QString kAppId = QStringLiteral(PENSER_APP_ID);

struct Run {
  int code = -1;
  QString out;
};

Run run(const QString& program, const QStringList& args,
        const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(program, args);
  if (!p.waitForFinished(60000)) return {-1, QStringLiteral("did not finish: ") + p.errorString()};
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAll())};
}

QByteArray read_all(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Largest per-channel difference between two images of the same size (premultiplied ARGB).
int max_channel_difference(const QImage& a, const QImage& b) {
  const QImage x = a.convertToFormat(QImage::Format_ARGB32_Premultiplied);
  const QImage y = b.convertToFormat(QImage::Format_ARGB32_Premultiplied);
  int worst = 0;
  for (int row = 0; row < x.height(); ++row)
    for (int col = 0; col < x.width(); ++col) {
      const QRgb p = x.pixel(col, row), q = y.pixel(col, row);
      worst = std::max({worst, std::abs(qAlpha(p) - qAlpha(q)), std::abs(qRed(p) - qRed(q)),
                        std::abs(qGreen(p) - qGreen(q)), std::abs(qBlue(p) - qBlue(q))});
    }
  return worst;
}

}  // namespace

class TestPlatformFiles : public QObject {
  Q_OBJECT

 private slots:
  void pngs_exist_at_every_size() {
    for (int s : {16, 24, 32, 48, 64, 128, 256, 512}) {
      const QString path = kSource + QStringLiteral("/resources/icons/png/penser-%1.png").arg(s);
      const QImage img(path);
      QVERIFY2(!img.isNull(), qPrintable(path));
      QCOMPARE(img.size(), QSize(s, s));
      QVERIFY(img.hasAlphaChannel());
    }
  }

  void ico_holds_the_windows_sizes() {
    // ICONDIR: reserved 0, type 1, count; then 16-byte entries whose first two bytes are width and height
    // (0 meaning 256).
    const QByteArray ico = read_all(kSource + QStringLiteral("/resources/icons/penser.ico"));
    QVERIFY(ico.size() > 6);
    const auto* d = reinterpret_cast<const uchar*>(ico.constData());
    QCOMPARE(qFromLittleEndian<quint16>(d + 2), quint16(1));
    const int count = qFromLittleEndian<quint16>(d + 4);
    QVERIFY(ico.size() >= 6 + 16 * count);
    QList<int> sizes;
    for (int i = 0; i < count; ++i) {
      const int w = d[6 + 16 * i] == 0 ? 256 : d[6 + 16 * i];
      const int h = d[6 + 16 * i + 1] == 0 ? 256 : d[6 + 16 * i + 1];
      QCOMPARE(w, h);
      const quint32 bytes = qFromLittleEndian<quint32>(d + 6 + 16 * i + 8);
      const quint32 offset = qFromLittleEndian<quint32>(d + 6 + 16 * i + 12);
      QVERIFY(quint64(offset) + bytes <= quint64(ico.size()));
      sizes << w;
    }
    QCOMPARE(sizes, (QList<int>{16, 24, 32, 48, 64, 128, 256}));
  }

  void icns_holds_the_macos_sizes() {
    // 'icns', total length (big endian), then elements of 4-byte type + 4-byte length.
    const QByteArray icns = read_all(kSource + QStringLiteral("/resources/icons/penser.icns"));
    QVERIFY(icns.startsWith("icns"));
    QCOMPARE(qFromBigEndian<quint32>(icns.constData() + 4), quint32(icns.size()));
    QStringList types;
    for (qsizetype at = 8; at + 8 <= icns.size();) {
      const quint32 len = qFromBigEndian<quint32>(icns.constData() + at + 4);
      QVERIFY(len >= 8 && at + len <= quint64(icns.size()));
      types << QString::fromLatin1(icns.mid(at, 4));
      at += len;
    }
    // 16, 32, 48, 128 (with masks), 256 and 512.
    for (const char* t : {"is32", "il32", "ih32", "it32", "ic08", "ic09"})
      QVERIFY2(types.contains(QLatin1String(t)), t);
  }

  void committed_icons_match_the_svg() {
    // generate.sh renders penser.svg again; the committed files must show the same pictures.
    for (const char* tool : {"rsvg-convert", "icotool", "png2icns"})
      if (QStandardPaths::findExecutable(QLatin1String(tool)).isEmpty())
        PENSER_SKIP_UNLESS_CI("librsvg2-bin, icoutils and icnsutils are needed to render the icons");
    QTemporaryDir out;
    QVERIFY(out.isValid());
    const Run r = run(kSource + QStringLiteral("/resources/icons/generate.sh"), {out.path()});
    QVERIFY2(r.code == 0, qPrintable(r.out));
    for (int s : {16, 24, 32, 48, 64, 128, 256, 512}) {
      const QString name = QStringLiteral("png/penser-%1.png").arg(s);
      const QImage fresh(out.filePath(name)), committed(kSource + QStringLiteral("/resources/icons/") + name);
      QCOMPARE(fresh.size(), committed.size());
      // A librsvg release may round antialiasing differently; a changed drawing differs by far more.
      const int diff = max_channel_difference(fresh, committed);
      QVERIFY2(diff <= 8, qPrintable(QStringLiteral("%1 differs by %2: run resources/icons/generate.sh")
                                         .arg(name).arg(diff)));
    }
  }

  void desktop_file_is_valid() {
    const QString path = kSource + QStringLiteral("/resources/") + kAppId + QStringLiteral(".desktop");
    QVERIFY2(QFile::exists(path), qPrintable(path + QStringLiteral(" (named after the app id)")));
    const QString text = QString::fromUtf8(read_all(path));
    QVERIFY(text.contains(QStringLiteral("\nIcon=") + kAppId + QLatin1Char('\n')));
    QVERIFY(text.contains(QStringLiteral("\nExec=penser")));
    if (QStandardPaths::findExecutable(QStringLiteral("desktop-file-validate")).isEmpty())
      PENSER_SKIP_UNLESS_CI("desktop-file-validate (desktop-file-utils) is not installed");
    const Run r = run(QStringLiteral("desktop-file-validate"), {path});
    QVERIFY2(r.code == 0 && r.out.trimmed().isEmpty(), qPrintable(r.out));
  }

  void metainfo_is_valid_and_carries_the_version() {
    const QString path = QStringLiteral(PENSER_METAINFO_FILE);
    const QString text = QString::fromUtf8(read_all(path));
    QVERIFY2(!text.isEmpty(), qPrintable(path));
    QVERIFY(text.contains(QStringLiteral("<id>") + kAppId + QStringLiteral("</id>")));
    QVERIFY(text.contains(QStringLiteral("<launchable type=\"desktop-id\">") + kAppId +
                          QStringLiteral(".desktop</launchable>")));
    QVERIFY(text.contains(QStringLiteral("<release version=\"") + kVersion + QLatin1Char('"')));
    QVERIFY(!text.contains(QLatin1Char('@')));  // nothing left unconfigured
    if (QStandardPaths::findExecutable(QStringLiteral("appstreamcli")).isEmpty())
      PENSER_SKIP_UNLESS_CI("appstreamcli (appstream) is not installed");
    const Run r = run(QStringLiteral("appstreamcli"), {QStringLiteral("validate"), QStringLiteral("--no-net"), path});
    QVERIFY2(r.code == 0, qPrintable(r.out));
  }

  void data_goes_to_the_app_data_folder() {
    // Conversations belong in the user's data folder (here $XDG_DATA_HOME/Penser/Penser), never beside the
    // program: an install folder is replaced by updates and deleted by uninstalls.
    QTemporaryDir home;
    QVERIFY(home.isValid());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOME"), home.filePath(QStringLiteral("home")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    const QString beside =
        QFileInfo(QStringLiteral(PENSER_EXE)).absolutePath() + QStringLiteral("/conversations.sqlite");
    const bool was_beside = QFile::exists(beside);
    const Run r = run(QStringLiteral(PENSER_EXE), {QStringLiteral("list")}, env);
    QVERIFY2(r.code == 0, qPrintable(r.out));
    QVERIFY(QFile::exists(home.filePath(QStringLiteral("data/Penser/Penser/conversations.sqlite"))));
    QCOMPARE(QFile::exists(beside), was_beside);
  }

  void version_is_the_same_everywhere() {
    QVERIFY(QRegularExpression(QStringLiteral("^\\d+\\.\\d+\\.\\d+$")).match(kVersion).hasMatch());

    const Run app = run(QStringLiteral(PENSER_EXE), {QStringLiteral("--version")});
    QCOMPARE(app.code, 0);
    QCOMPARE(app.out.trimmed(), QStringLiteral("penser ") + kVersion);

    const Run cli = run(QStringLiteral(PENSER_CLI_EXE), {QStringLiteral("--version")});
    QCOMPARE(cli.code, 0);
    QVERIFY2(cli.out.trimmed().endsWith(kVersion), qPrintable(cli.out));

    const QString wxs = QString::fromUtf8(read_all(QStringLiteral(PENSER_WXS_FILE)));
    QVERIFY(wxs.contains(QStringLiteral("Version=\"") + kVersion + QLatin1Char('"')));

    const QString plist = QString::fromUtf8(read_all(QStringLiteral(PENSER_INFO_PLIST_FILE)));
    for (const QString& xml : {wxs, plist}) {
      QXmlStreamReader reader(xml);
      while (!reader.atEnd()) reader.readNext();
      QVERIFY2(!reader.hasError(), qPrintable(reader.errorString()));
    }
    QVERIFY(!wxs.contains(QLatin1Char('@')) && !plist.contains(QLatin1Char('@')));
    QVERIFY(plist.contains(QStringLiteral("<key>CFBundleShortVersionString</key>\n  <string>") + kVersion));
    QVERIFY(plist.contains(QStringLiteral("<key>CFBundleIdentifier</key>\n  <string>") + kAppId));
  }
};

QTEST_GUILESS_MAIN(TestPlatformFiles)
#include "test_platform_files.moc"
