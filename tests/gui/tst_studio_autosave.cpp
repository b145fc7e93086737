// Studio autosave and restore after a crash, offscreen: the session file round-trips and
// refuses damaged content with its reason; the autosaver debounces and marks a clean
// exit; the window offers a crashed session and restores its model, journal position
// and overlay; a missing or changed model and a corrupt file give a message and a normal
// start. The last tests kill a real dnnf-studio process with SIGKILL once its session
// file shows the state, start it again, and read back what it restored.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <functional>

#include "views/jobs/job_runner.h"
#include "views/session/graph_timeline.h"
#include "views/session/saved_session.h"
#include "views/session/session_autosaver.h"
#include "views/session/studio_session.h"
#include "views/window/graph_controller.h"
#include "views/window/main_window.h"
#include "views/window/restore_bar.h"

using namespace dnnf::views;

namespace {

// Generous for the sanitized build on a busy 2-core machine; a pass takes seconds.
constexpr int kDeadlineMs = 180'000;

SavedSession sample(const QString& model) {
  SavedSession s;
  stamp_model(s, model);
  s.position = 3;
  s.positions = 9;
  s.overlay = "flops";
  s.view = "compare";
  s.zoom = 0.75;
  s.center_x = 120.5;
  s.center_y = -40.25;
  s.selected = 17;
  return s;
}

bool write_bytes(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// Polls `done` while processing events, until it holds or the deadline passes.
bool poll(const std::function<bool()>& done, int deadline_ms = kDeadlineMs) {
  QElapsedTimer t;
  t.start();
  while (!done()) {
    if (t.elapsed() > deadline_ms) return false;
    QTest::qWait(50);
  }
  return true;
}

void settle(MainWindow& w) {
  do w.wait_idle();
  while (w.controller()->layout_pending());
}

}  // namespace

class TestStudioAutosave : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void roundTripKeepsEveryField();
  void missingFileIsAFirstStart();
  void damagedFilesAreRefusedWithTheReason_data();
  void damagedFilesAreRefusedWithTheReason();
  void changedOrMissingModelIsNoticed();
  void autosaverDebouncesAndMarksACleanExit();
  void windowOffersAndRestoresACrashedSession();
  void windowReportsAMissingModelOrACorruptFile();
  void killedStudioRestoresModelPositionAndOverlay();
  void commandLineModelWinsOverRestore();
  void changedModelOrCorruptFileStartsNormally();

 private:
  // Runs dnnf-studio offscreen with its own HOME and XDG folders.
  QProcessEnvironment studio_env() const;
  QString session_file() const { return home_.filePath("data/dnnf/DNNF Studio/session.json"); }
  // Starts the Studio on `model` at `step` with the bytes overlay, waits until its session
  // file shows that state, then kills it with SIGKILL.
  void run_and_kill(const QString& model, int step);
  // Runs `args` + --dump-state to completion; returns the dumped state.
  QJsonObject run_and_dump(QStringList args);

  QTemporaryDir settings_dir_;
  QTemporaryDir home_;
  QString model_copy_;
};

void TestStudioAutosave::initTestCase() {
  // Recent files live in QSettings: keep this run's list away from the user's.
  QSettings::setDefaultFormat(QSettings::IniFormat);
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settings_dir_.path());
  QVERIFY(home_.isValid());
  // A model the tests may change or delete: a copy of the bundled default model.
  model_copy_ = home_.filePath("models/small.onnx");
  QVERIFY(QDir().mkpath(home_.filePath("models")));
  QVERIFY(QFile::copy(MainWindow::default_model_path(), model_copy_));
}

void TestStudioAutosave::roundTripKeepsEveryField() {
  QTemporaryDir dir;
  const QString file = dir.filePath("nested/folder/session.json");
  const SavedSession s = sample(MainWindow::default_model_path());
  QString error;
  QVERIFY2(write_saved_session(file, s, &error), qPrintable(error));
  const std::optional<SavedSession> back = read_saved_session(file, &error);
  QVERIFY2(back, qPrintable(error));
  QVERIFY(*back == s);
  QCOMPARE(back->model_path, QFileInfo(MainWindow::default_model_path()).absoluteFilePath());
  QCOMPARE(back->model_size, QFileInfo(MainWindow::default_model_path()).size());
  // The atomic write leaves no temporary file behind.
  QCOMPARE(QDir(dir.filePath("nested/folder")).entryList(QDir::Files), QStringList{"session.json"});
}

void TestStudioAutosave::missingFileIsAFirstStart() {
  QTemporaryDir dir;
  QString error = "unchanged";
  QVERIFY(!read_saved_session(dir.filePath("none.json"), &error));
  QVERIFY(error.isEmpty());
}

void TestStudioAutosave::damagedFilesAreRefusedWithTheReason_data() {
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<QString>("reason");
  QJsonObject good = QJsonDocument::fromJson(saved_session_to_json(sample(MainWindow::default_model_path()))).object();
  auto with = [&good](const QString& key, const QJsonValue& v) {
    QJsonObject o = good;
    if (v.isUndefined()) o.remove(key);
    else o[key] = v;
    return QJsonDocument(o).toJson();
  };
  QTest::newRow("empty") << QByteArray() << "not JSON";
  QTest::newRow("random bytes") << QByteArray("\x89PNG\r\n\x1a\n\0\0garbage", 18) << "not JSON";
  QTest::newRow("truncated") << saved_session_to_json(sample(MainWindow::default_model_path())).left(60) << "not JSON";
  QTest::newRow("array") << QByteArray("[1, 2]") << "not a JSON object";
  QTest::newRow("other format") << with("format", "something-else") << "format";
  QTest::newRow("newer version") << with("version", 2) << "version";
  QTest::newRow("no model") << with("model", QJsonValue::Undefined) << "'model.path' is missing";
  QTest::newRow("negative position") << with("position", -1) << "'position' -1";
  QTest::newRow("position past journal") << with("position", 9) << "'position' 9";
  QTest::newRow("fractional position") << with("position", 2.5) << "'position' is not an integer";
  QTest::newRow("unknown overlay") << with("overlay", "heat") << "unknown 'overlay'";
  QTest::newRow("unknown view") << with("view", "3d") << "unknown 'view'";
  QTest::newRow("absurd zoom") << with("zoom", 1e9) << "'zoom'";
  QTest::newRow("closed not bool") << with("closed_cleanly", "yes") << "'closed_cleanly'";
  QTest::newRow("huge file") << QByteArray(2 << 20, ' ') << "far more than a session holds";
}

void TestStudioAutosave::damagedFilesAreRefusedWithTheReason() {
  QFETCH(QByteArray, bytes);
  QFETCH(QString, reason);
  QTemporaryDir dir;
  const QString file = dir.filePath("session.json");
  QVERIFY(write_bytes(file, bytes));
  QString error;
  QVERIFY(!read_saved_session(file, &error));
  QVERIFY2(error.contains("session file " + file + " is corrupt"), qPrintable(error));
  QVERIFY2(error.contains(reason), qPrintable(error));
}

void TestStudioAutosave::changedOrMissingModelIsNoticed() {
  QTemporaryDir dir;
  const QString model = dir.filePath("m.onnx");
  QVERIFY(write_bytes(model, "0123456789"));
  SavedSession s;
  stamp_model(s, model);
  QCOMPARE(saved_model_problem(s), QString());
  // Same size, another modification time: changed.
  QFile f(model);
  QVERIFY(f.open(QIODevice::ReadWrite));
  QVERIFY(f.setFileTime(QDateTime::fromMSecsSinceEpoch(s.model_modified_ms - 60'000), QFileDevice::FileModificationTime));
  f.close();
  QVERIFY2(saved_model_problem(s).contains("changed since the session was saved (modified"), qPrintable(saved_model_problem(s)));
  // Another size: changed.
  QVERIFY(write_bytes(model, "01234567890123"));
  QVERIFY2(saved_model_problem(s).contains("(size 10 -> 14 bytes)"), qPrintable(saved_model_problem(s)));
  QVERIFY(QFile::remove(model));
  QCOMPARE(saved_model_problem(s), QString("model %1 no longer exists").arg(QFileInfo(model).absoluteFilePath()));
}

void TestStudioAutosave::autosaverDebouncesAndMarksACleanExit() {
  QTemporaryDir dir;
  const QString file = dir.filePath("session.json");
  std::optional<SavedSession> state;  // nothing to save yet
  {
    SessionAutosaver saver(file, [&state] { return state; });
    QVERIFY(!saver.previous());
    saver.set_debounce_ms(50);
    QSignalSpy saved(&saver, &SessionAutosaver::saved);
    saver.state_changed();
    QVERIFY(saver.save_now());
    QVERIFY(!QFile::exists(file));  // no model shown: no file
    state = sample(MainWindow::default_model_path());
    for (int i = 0; i < 5; ++i) {
      state->position = i;
      saver.state_changed();  // a burst of changes...
    }
    QVERIFY(saved.wait(kDeadlineMs));
    QCOMPARE(saved.count(), 1);  // ...is saved once, with the last state
    std::optional<SavedSession> on_disk = read_saved_session(file, nullptr);
    QVERIFY(on_disk);
    QCOMPARE(on_disk->position, 4);
    QVERIFY(!on_disk->closed_cleanly);
    QVERIFY(saver.save_now());  // unchanged: not written again
    QCOMPARE(saver.saves(), 1);
    // Destroyed without mark_closed: what a crash leaves.
  }
  {
    SessionAutosaver saver(file, [] { return std::optional<SavedSession>(); });
    QVERIFY(saver.previous_crashed());
    QCOMPARE(saver.previous()->position, 4);
    saver.mark_closed();  // nothing opened this time: the previous state is marked closed
  }
  SessionAutosaver again(file, [] { return std::optional<SavedSession>(); });
  QVERIFY(again.previous());
  QVERIFY(!again.previous_crashed());
  QVERIFY(again.previous_error().isEmpty());
}

void TestStudioAutosave::windowOffersAndRestoresACrashedSession() {
  QTemporaryDir dir;
  const QString file = dir.filePath("session.json");
  SavedSession crashed = sample(model_copy_);
  crashed.position = 2;
  crashed.overlay = "bytes";
  crashed.view = "graph";
  crashed.zoom = 0.5;
  crashed.selected = -1;
  QVERIFY(write_saved_session(file, crashed, nullptr));

  MainWindow w;
  w.resize(1200, 800);
  w.enable_autosave(file);
  w.show();
  QVERIFY(w.offer_restore());
  QVERIFY(w.restore_bar()->isVisible());
  QVERIFY2(w.restore_bar()->text().contains("small.onnx at journal position 2 with the bytes overlay"),
           qPrintable(w.restore_bar()->text()));
  QVERIFY(w.restore_bar()->restore_button()->isVisible());
  QTest::mouseClick(w.restore_bar()->restore_button(), Qt::LeftButton);
  settle(w);
  QVERIFY(w.session());
  QCOMPARE(QFileInfo(QString::fromStdString(w.session()->path)).absoluteFilePath(), model_copy_);
  QVERIFY(w.controller()->timeline()->positions() > 2);
  QCOMPARE(w.controller()->position(), size_t(2));
  QCOMPARE(w.controller()->overlay(), OverlayKind::Bytes);
  QVERIFY(!w.restore_bar()->isVisible());
  QVERIFY(qAbs(w.saved_state()->zoom - 0.5) < 1e-9);  // the zoom came back too
  // The restored state is autosaved as a running session, and marked closed at exit.
  QVERIFY(poll([&] {
    auto s = read_saved_session(file, nullptr);
    return s && s->position == 2 && s->overlay == "bytes" && s->positions == qint64(w.controller()->timeline()->positions());
  }));
  QVERIFY(!read_saved_session(file, nullptr)->closed_cleanly);
  w.close();
  QVERIFY(read_saved_session(file, nullptr)->closed_cleanly);
}

void TestStudioAutosave::windowReportsAMissingModelOrACorruptFile() {
  QTemporaryDir dir;
  const QString file = dir.filePath("session.json");
  {
    SavedSession gone = sample(dir.filePath("deleted.onnx"));
    QVERIFY(write_saved_session(file, gone, nullptr));
    MainWindow w;
    w.enable_autosave(file);
    w.show();
    QVERIFY(w.offer_restore());
    QVERIFY(!w.restore_previous_session());
    QVERIFY(w.restore_bar()->isVisible());
    QVERIFY(!w.restore_bar()->restore_button()->isVisible());
    QVERIFY2(w.restore_message().contains("deleted.onnx no longer exists"), qPrintable(w.restore_message()));
    QVERIFY(!w.session());  // nothing half-opened
    QVERIFY(!w.jobs()->busy());
  }
  QVERIFY(write_bytes(file, "{\"format\": \"dnnf-studio-session\", \"vers"));
  MainWindow w;
  w.enable_autosave(file);
  w.show();
  QVERIFY(!w.offer_restore());
  QVERIFY(w.restore_bar()->isVisible());
  QVERIFY2(w.restore_message().contains("session file " + file + " is corrupt"), qPrintable(w.restore_message()));
  // A normal start afterwards, and the damaged file is replaced by a sound one.
  w.open_model(MainWindow::default_model_path());
  settle(w);
  QVERIFY(w.session());
  w.close();
  QString error;
  QVERIFY2(read_saved_session(file, &error), qPrintable(error));
}

QProcessEnvironment TestStudioAutosave::studio_env() const {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("QT_QPA_PLATFORM", "offscreen");
  env.insert("HOME", home_.path());
  env.insert("XDG_DATA_HOME", home_.filePath("data"));
  env.insert("XDG_CONFIG_HOME", home_.filePath("config"));
  env.insert("DNNF_PROFILER", "estimate");  // no kernel timing while planning
  return env;
}

void TestStudioAutosave::run_and_kill(const QString& model, int step) {
  QProcess studio;
  studio.setProcessEnvironment(studio_env());
  studio.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  studio.start(DNNF_GUI_STUDIO_PATH, {model, "--step", QString::number(step), "--overlay", "bytes"});
  QVERIFY2(studio.waitForStarted(), qPrintable(studio.errorString()));
  std::optional<SavedSession> seen;
  const bool reached = poll([&] {
    seen = read_saved_session(session_file(), nullptr);
    return (seen && seen->model_path == QFileInfo(model).absoluteFilePath() && seen->position == step &&
            seen->overlay == "bytes" && !seen->closed_cleanly) ||
           studio.state() == QProcess::NotRunning;
  });
  QVERIFY2(reached && studio.state() == QProcess::Running, "the session file never showed the state, or the Studio exited");
  studio.kill();  // SIGKILL: no closeEvent, no aboutToQuit
  QVERIFY(studio.waitForFinished(kDeadlineMs));
  QCOMPARE(studio.exitStatus(), QProcess::CrashExit);
  const std::optional<SavedSession> left = read_saved_session(session_file(), nullptr);
  QVERIFY(left && !left->closed_cleanly && left->position == step);
}

QJsonObject TestStudioAutosave::run_and_dump(QStringList args) {
  const QString dump = home_.filePath("state.json");
  QFile::remove(dump);
  QProcess studio;
  studio.setProcessEnvironment(studio_env());
  studio.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  args << "--dump-state" << dump;
  studio.start(DNNF_GUI_STUDIO_PATH, args);
  if (!studio.waitForStarted() || !studio.waitForFinished(kDeadlineMs)) {
    studio.kill();
    studio.waitForFinished();
    qWarning("dnnf-studio %s did not finish", qPrintable(args.join(' ')));
    return {};
  }
  if (studio.exitStatus() != QProcess::NormalExit || studio.exitCode() != 0) {
    qWarning("dnnf-studio %s exited with %d", qPrintable(args.join(' ')), studio.exitCode());
    return {};
  }
  QFile f(dump);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

void TestStudioAutosave::killedStudioRestoresModelPositionAndOverlay() {
  run_and_kill(model_copy_, 3);
  if (QTest::currentTestFailed()) return;
  const QJsonObject state = run_and_dump({"--restore"});
  QVERIFY2(!state.isEmpty(), "no state dumped");
  QCOMPARE(state["model"].toString(), model_copy_);
  QVERIFY(state["optimised"].toBool());
  QCOMPARE(state["position"].toInt(), 3);
  QCOMPARE(state["overlay"].toString(), QString("bytes"));
  QVERIFY2(state["restore_message"].toString().startsWith("Restored the previous session"),
           qPrintable(state["restore_message"].toString()));
  QCOMPARE(state["error"].toString(), QString());
  // That run ended cleanly: nothing is offered at the next start.
  QVERIFY(read_saved_session(session_file(), nullptr)->closed_cleanly);
  const QJsonObject next = run_and_dump({});
  QCOMPARE(next["restore_bar_visible"].toBool(), false);
  QCOMPARE(next["model"].toString(), QFileInfo(MainWindow::default_model_path()).absoluteFilePath());
}

void TestStudioAutosave::commandLineModelWinsOverRestore() {
  run_and_kill(model_copy_, 2);
  if (QTest::currentTestFailed()) return;
  const QString other = QFileInfo(MainWindow::default_model_path()).absoluteFilePath();
  const QJsonObject state = run_and_dump({other, "--restore"});
  QVERIFY2(!state.isEmpty(), "no state dumped");
  QCOMPARE(state["model"].toString(), other);
  QCOMPARE(state["position"].toInt(), state["positions"].toInt() - 1);  // the fused plan, as usual
  QCOMPARE(state["overlay"].toString(), QString("none"));
}

void TestStudioAutosave::changedModelOrCorruptFileStartsNormally() {
  run_and_kill(model_copy_, 1);
  if (QTest::currentTestFailed()) return;
  // The model is rewritten after the crash (another size): not restored, said why.
  QFile f(model_copy_);
  QVERIFY(f.open(QIODevice::Append));
  QVERIFY(f.write(QByteArray(16, '\0')) == 16);
  f.close();
  const QString default_model = QFileInfo(MainWindow::default_model_path()).absoluteFilePath();
  QJsonObject state = run_and_dump({"--restore"});
  QVERIFY2(!state.isEmpty(), "no state dumped");
  QVERIFY2(state["restore_message"].toString().contains("changed since the session was saved"),
           qPrintable(state["restore_message"].toString()));
  QCOMPARE(state["model"].toString(), default_model);
  QVERIFY(state["optimised"].toBool());

  QVERIFY(write_bytes(session_file(), QByteArray("\0\1\2 not a session", 18)));
  state = run_and_dump({"--restore"});
  QVERIFY2(!state.isEmpty(), "no state dumped");
  QVERIFY2(state["restore_message"].toString().contains("is corrupt"), qPrintable(state["restore_message"].toString()));
  QCOMPARE(state["model"].toString(), default_model);
  QVERIFY(state["optimised"].toBool());
  QVERIFY(read_saved_session(session_file(), nullptr));  // replaced by a sound file
}

QTEST_MAIN(TestStudioAutosave)
#include "tst_studio_autosave.moc"
