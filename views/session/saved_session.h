// What the Studio autosaves so that a crash loses nothing a user cannot get back: the
// open model (with its size and modification time, so a model changed since is
// noticed), the journal position, the overlay, the central tab, the zoom and the
// selected node; and whether the Studio was closed cleanly. Stored as JSON, written
// atomically (QSaveFile: temporary file + rename), so a kill mid-write leaves the old
// file or the new one, never half of one.
#pragma once

#include <QString>
#include <optional>

namespace dnnf::views {

struct SavedSession {
  QString model_path;          // absolute
  qint64 model_size = -1;      // bytes, when the session was saved
  qint64 model_modified_ms = -1;  // modification time, ms since the epoch (UTC)
  qint64 position = 0;         // journal position (0 = original graph)
  qint64 positions = 0;        // positions the journal had (a changed plan is noticed)
  QString overlay = "none";    // overlay_name(): none, latency, bytes, flops
  QString view = "graph";      // central tab: graph (step-through) or compare (unfused vs fused)
  double zoom = 0;             // view scale; 0: fit the graph
  double center_x = 0, center_y = 0;  // scene point at the view's centre (with zoom)
  qint64 selected = -1;        // display node id selected, -1: none
  bool closed_cleanly = false;  // false while the Studio runs; true after a clean exit

  bool operator==(const SavedSession&) const = default;
};

QByteArray saved_session_to_json(const SavedSession& s);
// Parses and checks every field; on a bad file returns nullopt and says why in `error`.
std::optional<SavedSession> saved_session_from_json(const QByteArray& bytes, QString* error);

// Reads `file`. nullopt with an empty error: no file (a first start). nullopt with an
// error: unreadable or corrupt ("session file F is corrupt: ...").
std::optional<SavedSession> read_saved_session(const QString& file, QString* error);
// Writes atomically (creates the folder). False with a message in `error` on failure.
bool write_saved_session(const QString& file, const SavedSession& s, QString* error);

// Fills model_path (absolute), model_size and model_modified_ms from the file on disk.
void stamp_model(SavedSession& s, const QString& model_path);
// Empty when the saved model is still there and unchanged; otherwise a one-line reason
// ("model /a/b.onnx no longer exists", "model /a/b.onnx changed since the session was
// saved (size 100 -> 120 bytes)").
QString saved_model_problem(const SavedSession& s);

}  // namespace dnnf::views
