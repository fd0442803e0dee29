package dev.drover.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Keeps client commands quiet: only warnings unless DROVER_LOG_LEVEL says otherwise. */
final class Logging {
  private Logging() {}

  static void quiet() {
    if (System.getenv("DROVER_LOG_LEVEL") != null) {
      return;
    }
    if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) {
      root.setLevel(Level.WARN);
    }
  }
}
