// The sizes every dense kernel reads (a uniform, so one pipeline serves every batch size):
//   x [rows × inFeatures]    W [outFeatures × inFeatures]    y [rows × outFeatures]
struct Dims {
  rows: u32,
  inFeatures: u32,
  outFeatures: u32,
}
