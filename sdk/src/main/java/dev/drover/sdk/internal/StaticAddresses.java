package dev.drover.sdk.internal;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Resolves a fixed list of {@code host:port} server addresses for one channel, so that a client or
 * worker given several Drover servers spreads its calls over them (round robin) and moves on by
 * itself when one of them dies. Host names are resolved again whenever the channel asks (after failures).
 */
final class StaticAddresses extends NameResolverProvider {
  static final String SCHEME = "drover-static";
  private final List<String> addresses;

  StaticAddresses(List<String> addresses) {
    this.addresses = List.copyOf(addresses);
  }

  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    return new NameResolver() {
      private Listener2 listener;

      @Override
      public String getServiceAuthority() {
        return "drover";
      }

      @Override
      public void start(Listener2 listener) {
        this.listener = listener;
        resolve();
      }

      @Override
      public void refresh() {
        resolve();
      }

      private void resolve() {
        List<EquivalentAddressGroup> groups = new ArrayList<>();
        for (String a : addresses) {
          int colon = a.lastIndexOf(':');
          if (colon < 0) {
            continue;
          }
          String host = a.substring(0, colon);
          int port = Integer.parseInt(a.substring(colon + 1));
          // Resolved on each (re)resolution, which the channel asks for after connection failures,
          // so a server whose DNS name moved is found again.
          SocketAddress addr = new InetSocketAddress(host, port);
          groups.add(new EquivalentAddressGroup(Collections.singletonList(addr)));
        }
        if (groups.isEmpty()) {
          listener.onError(Status.UNAVAILABLE.withDescription("no valid server address in " + addresses));
          return;
        }
        listener.onResult(ResolutionResult.newBuilder().setAddressesOrError(io.grpc.StatusOr.fromValue(groups)).build());
      }

      @Override
      public void shutdown() {}
    };
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }
}
