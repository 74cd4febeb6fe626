// The MPI dispatcher. Messages (MPI_COMM_WORLD):
//   worker -> 0  kReady (empty) once at start, then kResult (a PointRow as JSON text)
//   0 -> worker  kWork (the index of a selected point, int64) or kStop (empty)
// Every worker computes the same selection from the spec, so an index names the same point on
// every rank. Only rank 0 touches the database.
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "nibble/models/error.h"
#include "nibble/sim/sweep_mpi.h"

namespace nibble {
namespace {

enum Tag : int { kReady = 1, kResult = 2, kWork = 3, kStop = 4 };

nlohmann::json row_to_json(const PointRow& row) {
  nlohmann::json metrics = nlohmann::json::array();
  for (const double m : row.evaluation.metrics) {
    metrics.push_back(std::isnan(m) ? nlohmann::json() : nlohmann::json(m));  // JSON has no NaN
  }
  return {{"id", row.id},           {"index", row.index},   {"ok", row.ok},
          {"error", row.error},     {"design", row.design}, {"metrics", metrics},
          {"bound", row.evaluation.bound}, {"detail", row.evaluation.detail},
          {"elapsed_s", row.elapsed_s}};
}

PointRow row_from_json(const nlohmann::json& j) {
  PointRow row{j.at("id"), j.at("index"), j.at("ok"), j.at("error"), j.at("design"), {}, j.at("elapsed_s")};
  for (const auto& m : j.at("metrics")) {
    row.evaluation.metrics.push_back(m.is_null() ? std::numeric_limits<double>::quiet_NaN() : m.get<double>());
  }
  row.evaluation.bound = j.at("bound");
  row.evaluation.detail = j.at("detail");
  return row;
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("MPI: ") + what + " failed");
}

// Receives the next message from any worker; returns its source and tag, its text in `text`.
std::pair<int, int> receive(std::string& text) {
  MPI_Status status;
  check(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &status), "probe");
  int size = 0;
  MPI_Get_count(&status, MPI_CHAR, &size);
  text.assign(static_cast<size_t>(size), '\0');
  check(MPI_Recv(text.data(), size, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE), "receive");
  return {status.MPI_SOURCE, status.MPI_TAG};
}

void send_stop(int rank) { check(MPI_Send(nullptr, 0, MPI_CHAR, rank, kStop, MPI_COMM_WORLD), "send"); }

// Rank 0's side: serve points until every worker has been stopped.
struct Dispatcher {
  int workers = 0;
  bool served = false;

  void serve(const std::vector<size_t>& todo, const std::function<void(const std::string&)>& on_result) {
    served = true;
    size_t next = 0;
    std::string text;
    for (int active = workers; active > 0;) {
      const auto [source, tag] = receive(text);
      if (tag == kResult) on_result(text);
      if (next < todo.size()) {
        const auto index = static_cast<std::int64_t>(todo[next++]);
        check(MPI_Send(&index, 1, MPI_INT64_T, source, kWork, MPI_COMM_WORLD), "send");
      } else {
        send_stop(source);
        --active;
      }
    }
  }
  // Releases the workers when the sweep failed before serving (a locked directory, say).
  void release() {
    if (served) return;
    std::string text;
    for (int i = 0; i < workers; ++i) send_stop(receive(text).first);
  }
};

}  // namespace

MpiSweepResult run_sweep_mpi(const SweepSpec& spec, const DesignSpace& space, const SweepOptions& options,
                             const std::function<void(const SweepProgress&)>& progress) {
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "init");
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MpiSweepResult result;
  try {
    if (size < 2) throw Error("MPI: a sweep needs at least 2 ranks (rank 0 writes, the others evaluate)");
    if (rank == 0) {
      result.root = true;
      Dispatcher dispatcher{size - 1};
      try {
        result.summary = run_sweep(spec, space, options, progress,
                                   [&](const std::vector<SweepPoint>&, const std::vector<size_t>& todo,
                                       const RowSink& sink) {
                                     dispatcher.serve(todo, [&](const std::string& text) {
                                       sink(row_from_json(nlohmann::json::parse(text)));
                                     });
                                   });
      } catch (...) {
        dispatcher.release();
        throw;
      }
    } else {
      const std::vector<SweepPoint> points = select_points(expand_points(spec, space), options);
      check(MPI_Send(nullptr, 0, MPI_CHAR, 0, kReady, MPI_COMM_WORLD), "send");
      for (;;) {
        MPI_Status status;
        std::int64_t index = 0;
        check(MPI_Recv(&index, 1, MPI_INT64_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &status), "receive");
        if (status.MPI_TAG == kStop) break;
        const PointRow row = evaluate_sweep_point(space, points.at(static_cast<size_t>(index)));
        (row.ok ? result.summary.ok : result.summary.failed) += 1;
        const std::string text = row_to_json(row).dump();
        check(MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, kResult, MPI_COMM_WORLD), "send");
      }
    }
  } catch (const std::exception& e) {
    if (rank != 0 && size > 1) {  // rank 0 would wait for this rank forever: end the job
      std::fprintf(stderr, "nibble: error: rank %d: %s\n", rank, e.what());
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Finalize();
    throw;
  }
  MPI_Finalize();
  return result;
}

}  // namespace nibble
