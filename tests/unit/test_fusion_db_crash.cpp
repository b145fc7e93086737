// The fusion database must survive its writer being killed at any point: a writer
// process stores profiles one transaction at a time and tells the test after each
// commit; the test kills it with SIGKILL in the middle of its loop, then reopens the file
// and finds it consistent, holding every acknowledged entry, and writable. A file that is
// not a database is refused with an error naming it.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "core/fusion/fusion_db.h"
#include "core/util/error.h"
#include "tests/support/test_util.h"

using namespace dnnf;
using dnnf::fusion::FusionDatabase;
using dnnf::fusion::ProfileResult;

namespace {

ProfileResult result_for(int32_t i) {
  ProfileResult r;
  r.fused_us = double(i);
  r.separate_us = 2.0 * double(i);
  r.source = "measured";
  return r;
}

// Stores "sig-0", "sig-1", ... forever, writing i to `ack` after entry i committed.
[[noreturn]] void write_until_killed(const std::string& path, int ack) {
  try {
    FusionDatabase db(path);
    for (int32_t i = 0;; ++i) {
      db.store("sig-" + std::to_string(i), "cpu", result_for(i));
      if (write(ack, &i, sizeof i) != ssize_t(sizeof i)) _exit(3);
    }
  } catch (...) {
    _exit(2);
  }
}

}  // namespace

TEST(FusionDatabaseCrash, KilledWriterLeavesEveryCommittedEntry) {
  test::TempDir dir;
  const std::string path = dir.file("fusion.db");
  { FusionDatabase create(path); }
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    int ack[2];
    ASSERT_EQ(pipe(ack), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(ack[0]);
      write_until_killed(path, ack[1]);
    }
    close(ack[1]);
    // Let it commit a few hundred entries, then kill it wherever it is.
    int32_t last = -1, n = 0;
    while (last < 200 * (round + 1)) ASSERT_EQ(read(ack[0], &last, sizeof last), ssize_t(sizeof last));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "writer ended on its own: " << status;
    while (read(ack[0], &n, sizeof n) == ssize_t(sizeof n)) last = n;  // commits acknowledged before the kill
    close(ack[0]);

    FusionDatabase db(path);
    EXPECT_EQ(db.integrity_check(), "ok");
    EXPECT_GE(db.stats().entries, int64_t(last) + 1);
    for (int32_t i = 0; i <= last; ++i) {
      const auto r = db.lookup("sig-" + std::to_string(i));
      ASSERT_TRUE(r) << "acknowledged entry " << i << " lost";
      EXPECT_EQ(r->fused_us, double(i));
    }
    db.store("after-kill", "cpu", result_for(7));  // still writable
    EXPECT_TRUE(db.lookup("after-kill"));
  }
}

TEST(FusionDatabaseCrash, FileThatIsNotADatabaseIsRefusedByName) {
  test::TempDir dir;
  const std::string path = dir.file("fusion.db");
  std::ofstream(path) << std::string(4096, 'x');
  try {
    FusionDatabase db(path);
    db.stats();
    FAIL() << "a file of 'x' opened as a fusion database";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}
