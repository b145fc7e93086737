#include "views/session/saved_session.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <cmath>

namespace dnnf::views {

namespace {

constexpr const char* kFormat = "dnnf-studio-session";
constexpr int kVersion = 1;
// A session file is a few hundred bytes; anything far bigger is not one of ours.
constexpr qint64 kMaxFileBytes = 1 << 20;

bool is_integer(const QJsonValue& v) {
  if (!v.isDouble()) return false;
  const double d = v.toDouble();
  return std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15;
}

}  // namespace

QByteArray saved_session_to_json(const SavedSession& s) {
  QJsonObject model{{"path", s.model_path},
                    {"size", double(s.model_size)},
                    {"modified_ms", double(s.model_modified_ms)}};
  QJsonObject o{{"format", kFormat},
                {"version", kVersion},
                {"closed_cleanly", s.closed_cleanly},
                {"model", model},
                {"position", double(s.position)},
                {"positions", double(s.positions)},
                {"overlay", s.overlay},
                {"view", s.view},
                {"zoom", s.zoom},
                {"center", QJsonArray{s.center_x, s.center_y}},
                {"selected", double(s.selected)}};
  return QJsonDocument(o).toJson(QJsonDocument::Indented);
}

std::optional<SavedSession> saved_session_from_json(const QByteArray& bytes, QString* error) {
  auto fail = [error](const QString& why) -> std::optional<SavedSession> {
    if (error) *error = why;
    return std::nullopt;
  };
  QJsonParseError parse;
  const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parse);
  if (parse.error != QJsonParseError::NoError) return fail("not JSON (" + parse.errorString() + ")");
  if (!doc.isObject()) return fail("not a JSON object");
  const QJsonObject o = doc.object();
  if (o.value("format").toString() != kFormat) return fail(QString("format is not '%1'").arg(kFormat));
  if (!is_integer(o.value("version")) || o.value("version").toInt() != kVersion)
    return fail(QString("version is not %1").arg(kVersion));
  SavedSession s;
  if (!o.value("closed_cleanly").isBool()) return fail("'closed_cleanly' is not true or false");
  s.closed_cleanly = o.value("closed_cleanly").toBool();
  const QJsonObject model = o.value("model").toObject();
  s.model_path = model.value("path").toString();
  if (s.model_path.isEmpty()) return fail("'model.path' is missing");
  if (!is_integer(model.value("size")) || !is_integer(model.value("modified_ms")))
    return fail("'model.size' or 'model.modified_ms' is not an integer");
  s.model_size = qint64(model.value("size").toDouble());
  s.model_modified_ms = qint64(model.value("modified_ms").toDouble());
  for (const char* key : {"position", "positions", "selected"})
    if (!is_integer(o.value(key))) return fail(QString("'%1' is not an integer").arg(key));
  s.position = qint64(o.value("position").toDouble());
  s.positions = qint64(o.value("positions").toDouble());
  s.selected = qint64(o.value("selected").toDouble());
  if (s.position < 0 || s.positions < 0 || s.position >= std::max<qint64>(s.positions, 1))
    return fail(QString("'position' %1 is outside the journal's %2 positions").arg(s.position).arg(s.positions));
  s.overlay = o.value("overlay").toString();
  if (s.overlay != "none" && s.overlay != "latency" && s.overlay != "bytes" && s.overlay != "flops")
    return fail("unknown 'overlay' '" + s.overlay + "'");
  s.view = o.value("view").toString();
  if (s.view != "graph" && s.view != "compare") return fail("unknown 'view' '" + s.view + "'");
  const QJsonArray center = o.value("center").toArray();
  if (!o.value("zoom").isDouble() || center.size() != 2 || !center[0].isDouble() || !center[1].isDouble())
    return fail("'zoom' or 'center' is not a number");
  s.zoom = o.value("zoom").toDouble();
  s.center_x = center[0].toDouble();
  s.center_y = center[1].toDouble();
  // A zoom the view could not show (negative, absurd) is a damaged file, not a wish.
  if (!std::isfinite(s.zoom) || s.zoom < 0 || s.zoom > 1000 || !std::isfinite(s.center_x) || !std::isfinite(s.center_y))
    return fail("'zoom' or 'center' is out of range");
  return s;
}

std::optional<SavedSession> read_saved_session(const QString& file, QString* error) {
  if (error) error->clear();
  QFile f(file);
  if (!f.exists()) return std::nullopt;
  if (f.size() > kMaxFileBytes) {
    if (error) *error = QString("session file %1 is corrupt: %2 bytes, far more than a session holds").arg(file).arg(f.size());
    return std::nullopt;
  }
  if (!f.open(QIODevice::ReadOnly)) {
    if (error) *error = QString("cannot read session file %1: %2").arg(file, f.errorString());
    return std::nullopt;
  }
  QString why;
  std::optional<SavedSession> s = saved_session_from_json(f.readAll(), &why);
  if (!s && error) *error = QString("session file %1 is corrupt: %2").arg(file, why);
  return s;
}

bool write_saved_session(const QString& file, const SavedSession& s, QString* error) {
  const QFileInfo info(file);
  if (!QDir().mkpath(info.absolutePath())) {
    if (error) *error = "cannot create folder " + info.absolutePath();
    return false;
  }
  QSaveFile out(file);
  const QByteArray bytes = saved_session_to_json(s);
  if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit()) {
    if (error) *error = QString("cannot write session file %1: %2").arg(file, out.errorString());
    return false;
  }
  return true;
}

void stamp_model(SavedSession& s, const QString& model_path) {
  const QFileInfo info(model_path);
  s.model_path = info.absoluteFilePath();
  s.model_size = info.exists() ? info.size() : -1;
  s.model_modified_ms = info.exists() ? info.lastModified().toMSecsSinceEpoch() : -1;
}

QString saved_model_problem(const SavedSession& s) {
  const QFileInfo info(s.model_path);
  if (!info.exists()) return QString("model %1 no longer exists").arg(s.model_path);
  if (!info.isFile()) return QString("model %1 is not a file").arg(s.model_path);
  if (info.size() != s.model_size)
    return QString("model %1 changed since the session was saved (size %2 -> %3 bytes)")
        .arg(s.model_path).arg(s.model_size).arg(info.size());
  const qint64 modified = info.lastModified().toMSecsSinceEpoch();
  if (modified != s.model_modified_ms)
    return QString("model %1 changed since the session was saved (modified %2, saved with %3)")
        .arg(s.model_path,
             QDateTime::fromMSecsSinceEpoch(modified, Qt::UTC).toString(Qt::ISODate),
             QDateTime::fromMSecsSinceEpoch(s.model_modified_ms, Qt::UTC).toString(Qt::ISODate));
  return {};
}

}  // namespace dnnf::views
