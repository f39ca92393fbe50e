/** @module The UpdateTarget of a published version, as the server's version snapshot provides it. */
import type { OnlineStore } from '../../store/online-store.js';
import type { UpdateTarget } from '../online-updater.js';

export async function updateTargetOf(store: OnlineStore, version: number): Promise<UpdateTarget> {
  const catalog = await store.readCatalog(version);
  const record = await store.getVersion(version);
  if (!record) throw new Error(`version ${version} is not in ${store.description}`);
  const popular = (await store.getPopular(version)) ?? { items: new Int32Array(0), scores: new Float32Array(0) };
  return { version, record, catalog, popular, itemIndex: new Map(catalog.ids.map((id, i) => [id, i])) };
}
