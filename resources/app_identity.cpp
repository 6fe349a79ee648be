#include "resources/app_identity.h"

#include <QGuiApplication>
#include <QIcon>
#include <QString>

namespace penser::resources {

QString app_id() { return QStringLiteral(PENSER_APP_ID); }

QIcon app_icon() {
  // PNGs rather than the SVG: the svg icon engine is a plugin that a stripped deployment may lack, and these
  // raster sizes are the ones the window manager asks for.
  QIcon icon;
  for (int size : {16, 24, 32, 48, 64, 128, 256})
    icon.addFile(QStringLiteral(":/icons/penser-%1.png").arg(size), QSize(size, size));
  return icon;
}

void apply_desktop_identity() {
  QGuiApplication::setWindowIcon(app_icon());
  QGuiApplication::setDesktopFileName(app_id());
}

}  // namespace penser::resources
