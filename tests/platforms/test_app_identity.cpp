// The window icon and desktop-file id compiled into `penser` (resources/app_identity.h): every size is there,
// it is Penser's icon (not a blank or a placeholder), and the id matches the .desktop file.
#include "resources/app_identity.h"

#include <QGuiApplication>
#include <QIcon>
#include <QImage>
#include <QtTest>

class TestAppIdentity : public QObject {
  Q_OBJECT

 private slots:
  void app_id_is_the_configured_one() { QCOMPARE(penser::resources::app_id(), QStringLiteral(PENSER_APP_ID)); }

  void icon_has_every_window_size() {
    const QIcon icon = penser::resources::app_icon();
    QVERIFY(!icon.isNull());
    const QList<QSize> sizes = icon.availableSizes();
    for (int s : {16, 24, 32, 48, 64, 128, 256}) {
      QVERIFY2(sizes.contains(QSize(s, s)), qPrintable(QStringLiteral("no %1 px icon").arg(s)));
      // An exact size must come from its own PNG, not from scaling another one.
      QCOMPARE(icon.pixmap(QSize(s, s)).size(), QSize(s, s));
    }
  }

  void icon_is_the_thought_bubble() {
    // penser.svg: an indigo tile, a white bubble above the centre, orange dots, transparent corners.
    const QImage img = penser::resources::app_icon().pixmap(QSize(256, 256)).toImage();
    QCOMPARE(qAlpha(img.pixel(0, 0)), 0);                    // rounded corner
    const QColor bubble = img.pixelColor(128, 70);            // top of the bubble
    QVERIFY2(bubble.red() > 240 && bubble.green() > 240 && bubble.blue() > 240, qPrintable(bubble.name()));
    const QColor tile = img.pixelColor(128, 220);             // below the bubble: the tile
    QVERIFY2(tile.blue() > 120 && tile.red() < 110 && tile.green() < 110, qPrintable(tile.name()));
    const QColor dot = img.pixelColor(98, 122);               // the left dot
    QVERIFY2(dot.red() > 200 && dot.green() > 130 && dot.blue() < 100, qPrintable(dot.name()));
  }

  void apply_sets_window_icon_and_desktop_file_name() {
    QVERIFY(QGuiApplication::windowIcon().isNull());
    penser::resources::apply_desktop_identity();
    QCOMPARE(QGuiApplication::desktopFileName(), QStringLiteral(PENSER_APP_ID));
    QVERIFY(QGuiApplication::windowIcon().availableSizes().contains(QSize(16, 16)));
  }
};

QTEST_MAIN(TestAppIdentity)
#include "test_app_identity.moc"
