/** Application routes several specs serve: a nested router with a parameterised mount path, and a plain parameterised route. */
import express, { type Express } from 'express';

/** Add `GET /shops/:shopId/items/:itemId` (nested router, `mergeParams`) and `GET /users/:id` to `app`; both answer JSON. */
export function addShopRoutes(app: Express): Express {
  const items = express.Router({ mergeParams: true });
  items.get('/:itemId', (req, res) => {
    res.json({ item: req.params.itemId });
  });
  app.use('/shops/:shopId/items', items);
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  return app;
}
