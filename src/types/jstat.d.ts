/** The part of jstat (no bundled types) the project uses: Student's t quantiles. */
declare module 'jstat' {
  const jstat: {
    studentt: { inv(p: number, dof: number): number };
  };
  export default jstat;
}
