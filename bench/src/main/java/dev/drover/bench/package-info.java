/** The load generator behind {@code drover bench} and the JMH microbenchmarks. */
package dev.drover.bench;
