// express4 is Express 4 installed under an npm alias for the tests; its shape matches @types/express.
declare module 'express4' {
  import express from 'express';
  export default express;
}
