import 'reflect-metadata';
import { Controller, Get, Module, Param, type MiddlewareConsumer } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import http from 'node:http';

class UsersController {
  get(id: string) { return { id }; }
  boom() { throw new TypeError('kaboom'); }
}
Controller('users')(UsersController);
const p = UsersController.prototype;
Param('id')(p, 'get', 0);
Get(':id')(p, 'get', Object.getOwnPropertyDescriptor(p, 'get')!);
Get('boom/now')(p, 'boom', Object.getOwnPropertyDescriptor(p, 'boom')!);

class AppModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply((req: any, _res: any, next: any) => { console.log('mw', req.url, req.originalUrl, req.baseUrl, req.path); next(); }).forRoutes('*');
  }
}
Module({ controllers: [UsersController] })(AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as any).port;
  for (const path of ['/users/42', '/users/boom/now', '/metrics', '/health/live', '/nope']) {
    await new Promise<void>((r) => http.get({ host: '127.0.0.1', port, path }, (res) => { let b=''; res.on('data', c=>b+=c); res.on('end', () => { console.log(path, res.statusCode, b); r(); }); }));
  }
  await app.close();
}
main();
