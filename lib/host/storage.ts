// The store's locations are lib/store's (lib/store/paths.ts); info and doctor
// only need the two paths.
export { storeLocations, type StoreLocations } from '../store/paths.js';
