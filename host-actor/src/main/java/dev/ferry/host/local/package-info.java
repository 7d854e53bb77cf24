/** Local clusters: host nodes forked as JVMs on 127.0.0.1, for operators' local runs, tests and benchmarks. */
package dev.ferry.host.local;
