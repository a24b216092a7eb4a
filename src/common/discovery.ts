import type { DiscoveryService } from '@nestjs/core';

/**
 * The instances of every provider marked with `decorator`, once each (a provider listed by two
 * modules is one instance). This is how a feature plugs into another without the other importing it
 * (voice into message views, webhooks into committed events): the plug-in declares itself with a
 * class decorator and the host finds it through DI, so nothing is registered at run time.
 */
export function discoverProviders<T>(discovery: DiscoveryService, decorator: { KEY: string }): T[] {
  const found = new Set<T>();
  for (const wrapper of discovery.getProviders({ metadataKey: decorator.KEY })) {
    if (wrapper.instance && !wrapper.isTransient) found.add(wrapper.instance as T);
  }
  return [...found];
}
