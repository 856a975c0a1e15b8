/*
 * MPI_Allreduce reference loop for bench/collectives/compare.ts: float sum, the same
 * sizes, repetition scaling and checking as bench/collectives/run.ts, out of place.
 *
 *   mpirun -n 4 mpi_allreduce [-b 8] [-e 67108864] [-f 2] [-w 5] [-W 0.2] [-i 20]
 *
 * Rank 0 prints one JSON object per size:
 *   {"size":B,"count":N,"time_us":T,"algbw":G,"busbw":G,"wrong":W}
 * time is the slowest rank's mean per call; busbw = algbw * 2(n-1)/n (nccl-tests).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double value(int rank, long i) {
  /* Small integers (-2..2): every summation order gives the same bits. */
  return (double)(((rank * 7 + i * 3) % 5) - 2);
}

int main(int argc, char **argv) {
  long minb = 8, maxb = 64L << 20;
  double factor = 2;
  int warmup = 5, iters = 20;
  double warmup_s = 0.2;
  MPI_Init(&argc, &argv);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-b")) minb = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "-e")) maxb = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "-f")) factor = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-w")) warmup = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-i")) iters = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-W")) warmup_s = atof(argv[i + 1]);
  }
  int rank, n;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  long maxcount = maxb / (long)sizeof(float);
  float *send = malloc(maxcount * sizeof(float) + 1);
  float *recv = malloc(maxcount * sizeof(float) + 1);
  if (!send || !recv) {
    fprintf(stderr, "out of memory\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  long last = 0;
  for (double s = (double)minb; s <= (double)maxb; s *= factor) {
    long bytes = ((long)s / (long)sizeof(float)) * (long)sizeof(float);
    if (bytes <= 0 || bytes == last) continue;
    last = bytes;
    long count = bytes / (long)sizeof(float);
    double scale = bytes > (1L << 20) ? (double)(1L << 20) / (double)bytes : 1.0;
    int w = (int)(warmup * scale + 0.5), it = (int)(iters * scale + 0.5);
    if (w < 1) w = 1;
    if (it < 3) it = 3;
    for (long i = 0; i < count; i++) send[i] = (float)value(rank, i);
    /* The same warm-up rule as the Node side: w iterations, and more until every rank has
     * spent warmup_s seconds (agreed by a MIN reduction, so all run the same number). */
    double w0 = MPI_Wtime();
    for (int k = 0; k < w; k++) MPI_Allreduce(send, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    for (;;) {
      int done = MPI_Wtime() - w0 >= warmup_s, all;
      MPI_Allreduce(&done, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
      if (all) break;
      for (int k = 0; k < w; k++) MPI_Allreduce(send, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int k = 0; k < it; k++) MPI_Allreduce(send, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    double us = (MPI_Wtime() - t0) * 1e6 / it, maxus;
    long wrong = 0, allwrong;
    for (long i = 0; i < count; i++) {
      double want = 0;
      for (int r = 0; r < n; r++) want += value(r, i);
      if (recv[i] != (float)want) wrong++;
    }
    MPI_Reduce(&us, &maxus, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&wrong, &allwrong, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      double algbw = (double)bytes / (maxus * 1e3);
      printf("{\"size\":%ld,\"count\":%ld,\"time_us\":%.3f,\"algbw\":%.4f,\"busbw\":%.4f,\"wrong\":%ld}\n",
             bytes, count, maxus, algbw, algbw * 2.0 * (n - 1) / n, allwrong);
      fflush(stdout);
    }
  }
  free(send);
  free(recv);
  MPI_Finalize();
  return 0;
}
