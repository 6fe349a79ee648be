#include "ui/window.h"

#include "app/gui/model_controller.h"
#include "app/gui/services.h"

#include <QColor>
#include <QGuiApplication>
#include <QList>
#include <QPalette>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQmlError>
#include <QQmlExpression>
#include <QQuickStyle>
#include <QStringList>
#include <QUrl>

namespace penser::ui {

namespace {

// Answers render through Qt's Markdown importer, which colours links from the application palette, not from
// the QML palette the controls use: keep the application palette's link colour on Theme.accent (and follow
// it when the theme changes) so links stay readable in the dark theme.
void follow_theme_link_colour(QQmlApplicationEngine& engine) {
  QQmlContext* context = qmlContext(engine.rootObjects().first());
  if (!context) return;
  auto* accent = new QQmlExpression(context, engine.rootObjects().first(), QStringLiteral("Theme.accent"), &engine);
  accent->setNotifyOnValueChanged(true);
  auto apply = [accent] {
    const QColor colour = accent->evaluate().value<QColor>();
    if (!colour.isValid()) return;
    QPalette palette = QGuiApplication::palette();
    palette.setColor(QPalette::Link, colour);
    palette.setColor(QPalette::LinkVisited, colour);
    QGuiApplication::setPalette(palette);
  };
  QObject::connect(accent, &QQmlExpression::valueChanged, accent, apply);
  apply();
}

}  // namespace

Status load_window(QQmlApplicationEngine& engine, gui::Services& services, const QString& model_path) {
  // The singletons find the controllers through Services::instance(); taking the reference here makes the
  // order (services first, then the window) a compile-time requirement of every caller.

  // Fusion draws every control from the window's palette, which Theme sets: light and dark look the same
  // on every platform. QT_QUICK_CONTROLS_STYLE still wins for whoever wants their own.
  // The style is chosen once per process (a second window, as in the tests, keeps the first one's).
  if (qEnvironmentVariableIsEmpty("QT_QUICK_CONTROLS_STYLE") && QQuickStyle::name().isEmpty())
    QQuickStyle::setStyle(QStringLiteral("Fusion"));

  // Static QML modules live in the resource file system; Qt 6.4 does not search qrc:/qt/qml by itself.
  engine.addImportPath(QStringLiteral("qrc:/qt/qml"));

  QStringList errors;
  const auto connection = QObject::connect(&engine, &QQmlEngine::warnings, &engine,
                                           [&errors](const QList<QQmlError>& warnings) {
                                             for (const QQmlError& w : warnings) errors << w.toString();
                                           });
  engine.load(QUrl(QStringLiteral("qrc:/qt/qml/Penser/Main.qml")));
  QObject::disconnect(connection);

  if (engine.rootObjects().isEmpty()) {
    const QString detail = errors.isEmpty() ? QStringLiteral("no QML error was reported") : errors.join(u'\n');
    return make_error("The window could not be created: {}", detail.toStdString());
  }
  follow_theme_link_colour(engine);
  if (!model_path.isEmpty()) services.models().open(model_path);
  return {};
}

}  // namespace penser::ui
